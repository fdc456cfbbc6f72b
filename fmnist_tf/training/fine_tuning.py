"""Transfer learning on the Estimator: a new head on a frozen backbone, then the backbone fine-tuned with a fresh
optimizer at a lower learning rate (the field's two phases).

``schedule = FineTuning(freeze_backbone_steps=500, unfreeze_blocks=3)``; the model_fn builds the model in the
phase of the model_dir's step (``make_model_fn(..., fine_tuning=schedule, initial_step=...)``), then
``train_and_evaluate(classifier, train_spec, eval_spec, schedule, make_fine_tuning_optimizer)``.
"""

import dataclasses

from absl import logging

from fmnist_tf import estimator
from fmnist_tf.models import applications


@dataclasses.dataclass(frozen=True)
class FineTuning:
    """The first ``freeze_backbone_steps`` steps train only the head; the later ones also the top
    ``unfreeze_blocks`` blocks of the backbone (0: all of it), with a fresh optimizer at ``learning_rate``."""

    freeze_backbone_steps: int
    unfreeze_blocks: int = 0
    learning_rate: float = 1e-5

    def fine_tuned_at(self, step):
        """Whether the model and optimizer saved at global step ``step`` are the second phase's.

        The checkpoint at ``freeze_backbone_steps`` itself is the first phase's last: a run stopped between the
        switch and its next checkpoint resumes from it and switches again.
        """
        return step > self.freeze_backbone_steps

    def set_trainable(self, model, fine_tuned):
        """Freezes ``model``'s backbone, or unfreezes the blocks of the second phase when ``fine_tuned``."""
        if fine_tuned:
            applications.unfreeze_backbone(model, self.unfreeze_blocks or None)
        else:
            applications.freeze_backbone(model)


def _log_phase(model, step, fine_tuned, unfreeze_blocks):
    blocks = "all the backbone" if not unfreeze_blocks else f"the top {unfreeze_blocks} backbone blocks"
    phase = f"fine-tuning {blocks} and the head" if fine_tuned else "training the head on a frozen backbone"
    logging.info("Global step %d: %s; %d of %d weights trainable.", step, phase, len(model.trainable_weights),
                 len(model.weights))


def train_and_evaluate(classifier, train_spec, eval_spec, fine_tuning, make_fine_tuning_optimizer, monitors=()):
    """``estimator.train_and_evaluate`` in two phases: the head to ``freeze_backbone_steps``, then the switch
    (unfreeze, ``classifier.replace_optimizer(make_fine_tuning_optimizer)``) and the rest to ``max_steps``.

    The classifier's model must be in the phase of its global step (``FineTuning.fine_tuned_at``), as the
    model_fn built it; returns ``(final metrics, every evaluation's metrics in order)``.
    """
    evaluations = []
    fine_tuned = fine_tuning.fine_tuned_at(classifier.global_step)
    _log_phase(classifier.model, classifier.global_step, fine_tuned, fine_tuning.unfreeze_blocks)
    if not fine_tuned:
        head_spec = dataclasses.replace(train_spec, max_steps=min(fine_tuning.freeze_backbone_steps,
                                                                  train_spec.max_steps))
        _, evaluations = estimator.train_and_evaluate(classifier, head_spec, eval_spec, monitors)
        if (classifier.stopped_by_sigterm or classifier.global_step < fine_tuning.freeze_backbone_steps
                or classifier.global_step >= train_spec.max_steps):
            return (evaluations[-1] if evaluations else None), evaluations
        fine_tuning.set_trainable(classifier.model, fine_tuned=True)
        classifier.replace_optimizer(make_fine_tuning_optimizer)
        _log_phase(classifier.model, classifier.global_step, True, fine_tuning.unfreeze_blocks)
    _, fine_tuning_evaluations = estimator.train_and_evaluate(classifier, train_spec, eval_spec, monitors)
    evaluations += [metrics for metrics in fine_tuning_evaluations
                    if not evaluations or metrics["global_step"] != evaluations[-1]["global_step"]]
    return evaluations[-1], evaluations
