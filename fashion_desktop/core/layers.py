"""Keras layers that the shipped model uses beyond Keras's own (imported only when a model loads)."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="fashion_lens")
class HorizontalFlip(keras.layers.Layer):
    """Mirror images left-right: the model averages its view of a picture and of its mirror image."""

    def call(self, inputs):
        return keras.ops.flip(inputs, axis=2)

    def compute_output_shape(self, input_shape):
        return input_shape
