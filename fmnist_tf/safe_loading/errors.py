"""Typed errors of the safe loaders: each names the file, the member or layer, and what was
expected."""


class ModelLoadError(ValueError):
    """Base class of every model file refused before Keras deserializes any of it."""


class ArchiveFormatError(ModelLoadError):
    """A .keras file that is not laid out as Keras writes one: not a zip, a stray or unsafe member
    name, an encrypted or linked member, a config.json that is not JSON."""


class DecompressionBombError(ModelLoadError):
    """A .keras archive whose zip directory declares too many members, too many bytes, or a member
    compressed further than real model files ever are."""


class DisallowedObjectError(ModelLoadError):
    """A .keras config.json naming something outside the allowlist: a Lambda layer, a serialized
    function or lambda, or a class from a module other than Keras's and fmnist_tf's."""
