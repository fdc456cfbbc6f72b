"""The original grid's parameters, carried over to the installed scikit-learn: renamed values, removed options.

``make_estimator("SGDClassifier", {"loss": "log"})`` -> ``SGDClassifier(loss="log_loss")``; MIGRATIONS is the table.
"""

import dataclasses
import functools

from sklearn.multiclass import OneVsRestClassifier
from sklearn.utils import all_estimators

# Marks a rule that applies when the grid leaves a parameter at its default (whose value has changed since).
NOT_IN_GRID = "<not in grid>"
WRAPPERS = {"OneVsRestClassifier": OneVsRestClassifier}


@dataclasses.dataclass(frozen=True)
class Migration:
    """``classifier``'s ``parameter``=``old_value`` becomes ``new_parameters`` (empty: dropped), maybe wrapped."""

    classifier: str
    parameter: str
    old_value: object
    new_parameters: dict
    why: str
    wrapper: str = None


MIGRATIONS = (
    Migration("SGDClassifier", "loss", "log", {"loss": "log_loss"},
              "renamed in 1.1; the old name was removed in 1.3"),
    Migration("GradientBoostingClassifier", "loss", "deviance", {"loss": "log_loss"},
              "renamed in 1.1; the old name was removed in 1.3"),
    Migration("LogisticRegression", "penalty", "l1", {"l1_ratio": 1.0, "solver": "saga"},
              "`penalty` is deprecated since 1.8 (l1_ratio=1 is L1); the default solver lbfgs (since 0.22) has "
              "no L1 and liblinear no longer takes 10 classes, saga does both"),
    Migration("LogisticRegression", "penalty", "l2", {"l1_ratio": 0.0},
              "`penalty` is deprecated since 1.8; l1_ratio=0 is L2"),
    Migration("LogisticRegression", "multi_class", "ovr", {},
              "`multi_class` was deprecated in 1.5 and is gone; one-vs-rest is now the OneVsRestClassifier wrapper",
              wrapper="OneVsRestClassifier"),
    Migration("LogisticRegression", "multi_class", "multinomial", {},
              "dropped: `multi_class` is gone and every solver now fits the multinomial model for 3+ classes "
              "(the original rejected these combinations: its default liblinear had no multinomial)"),
    Migration("SVC", "gamma", NOT_IN_GRID, {"gamma": "auto"},
              "the default changed from 'auto' to 'scale' in 0.22; pinned to the original's 1/n_features"),
) + tuple(
    Migration(name, "max_iter", NOT_IN_GRID, {"max_iter": 5, "tol": None},
              "the default changed in 0.21 from 5 epochs (n_iter=5) to up to 1000 (max_iter=1000, tol=1e-3), "
              "which on these 60,000 images runs for many minutes; pinned to the original's 5 epochs")
    for name in ("SGDClassifier", "Perceptron", "PassiveAggressiveClassifier"))

# Settings that change only the speed, never the fitted model: libsvm's kernel cache (200 MB by default)
# holds a small share of the 60000 x 60000 kernel matrix, and recomputing rows dominates the fit.
SPEED_SETTINGS = {"SVC": {"cache_size": 2000}}


def _rule_applies(rule, name, parameters):
    if rule.classifier != name:
        return False
    if rule.old_value == NOT_IN_GRID:
        return rule.parameter not in parameters
    return rule.parameter in parameters and parameters[rule.parameter] == rule.old_value


def migrate(name, parameters, migrations=MIGRATIONS):
    """(parameters for the installed scikit-learn, wrapper name or None) for the grid's ``parameters``."""
    migrated, wrapper = dict(parameters), None
    for rule in migrations:
        if _rule_applies(rule, name, parameters):
            migrated.pop(rule.parameter, None)
            migrated.update(rule.new_parameters)
            wrapper = rule.wrapper or wrapper
    return migrated, wrapper


@functools.cache
def _classifier_classes():
    # all_estimators() imports and walks every scikit-learn module: once per process, not once per fit.
    return dict(all_estimators(type_filter="classifier"))


def classifier_class(name):
    """The scikit-learn classifier class called ``name``; ValueError names the unknown one."""
    classes = _classifier_classes()
    if name not in classes:
        raise ValueError(f"no scikit-learn classifier named {name!r}; expected one of {sorted(classes)}")
    return classes[name]


def takes_random_state(name):
    """Whether classifier ``name`` draws at random (forests, SGD, MLP...), seeded by a ``random_state``."""
    return _takes_random_state(classifier_class(name))


def _takes_random_state(cls):
    return "random_state" in cls().get_params()


def make_estimator(name, parameters, random_state=None):
    """The estimator ``name`` with the grid's ``parameters`` migrated, seeded with ``random_state`` if it takes one."""
    migrated, wrapper = migrate(name, parameters)
    cls = classifier_class(name)
    migrated = {**SPEED_SETTINGS.get(name, {}), **migrated}
    if random_state is not None and _takes_random_state(cls) and "random_state" not in migrated:
        migrated["random_state"] = random_state
    estimator = cls(**migrated)
    return WRAPPERS[wrapper](estimator) if wrapper else estimator
