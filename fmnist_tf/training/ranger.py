"""Ranger: RAdam (Liu et al., 2020) inside Lookahead (Zhang et al., 2019), as a Keras 3 optimizer.

``Ranger(learning_rate=1e-3)``; Keras has neither RAdam nor Lookahead. Every ``sync_period`` steps
the slow weights move ``slow_step_size`` of the way to the fast ones, and the fast ones restart
there.
"""

import keras
from keras import ops

# RAdam uses its rectified update once the variance estimate has this many degrees of freedom.
RECTIFY_THRESHOLD = 5.0


@keras.saving.register_keras_serializable(package="fmnist_tf")
class Ranger(keras.optimizers.Optimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.95, beta_2=0.999, epsilon=1e-5, sync_period=6,
                 slow_step_size=0.5, name="ranger", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.sync_period, self.slow_step_size = sync_period, slow_step_size

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._first_moments = [self.add_variable_from_reference(variable, "m")
                               for variable in var_list]
        self._second_moments = [self.add_variable_from_reference(variable, "v")
                                for variable in var_list]
        self._slow_weights = [self.add_variable_from_reference(variable, "slow")
                              for variable in var_list]

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        m, v, slow = (self._first_moments[index], self._second_moments[index],
                      self._slow_weights[index])
        dtype = variable.dtype
        gradient = ops.cast(gradient, dtype)
        learning_rate = ops.cast(learning_rate, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)

        # The slow weights start where the fast ones are before their first update.
        self.assign(slow, ops.where(ops.equal(self.iterations, 0), variable, slow))

        self.assign(m, beta_1 * m + (1 - beta_1) * gradient)
        self.assign(v, beta_2 * v + (1 - beta_2) * ops.square(gradient))
        beta_2_power = ops.power(beta_2, step)
        m_hat = m / (1 - ops.power(beta_1, step))
        rho_inf = 2 / (1 - beta_2) - 1
        rho = rho_inf - 2 * step * beta_2_power / (1 - beta_2_power)
        # Early on the variance estimate is too unsure to scale by: momentum SGD until it settles.
        rectifier = ops.sqrt(ops.maximum(((rho - 4) * (rho - 2) * rho_inf)
                                         / ((rho_inf - 4) * (rho_inf - 2) * rho), 0.0))
        adaptive = rectifier * m_hat / (ops.sqrt(v / (1 - beta_2_power)) + self.epsilon)
        self.assign_sub(variable,
                        learning_rate * ops.where(rho > RECTIFY_THRESHOLD, adaptive, m_hat))

        synchronize = ops.equal(ops.mod(self.iterations + 1, self.sync_period), 0)
        moved_slow = slow + self.slow_step_size * (variable - slow)
        self.assign(slow, ops.where(synchronize, moved_slow, slow))
        self.assign(variable, ops.where(synchronize, moved_slow, variable))

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                      sync_period=self.sync_period, slow_step_size=self.slow_step_size)
        return config
