"""The two architectures: the reference ``seed`` design and our ``default`` CNN. Both output logits."""

from __future__ import annotations

import keras
from keras import layers

from fashion_desktop.core import NUM_CLASSES


def build_seed(num_classes: int = NUM_CLASSES) -> keras.Model:
    """Reference design: 3 x (conv -> max-pool -> batch-norm -> dropout), then a dense head."""
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Rescaling(1 / 255)(inputs)
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    logits = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name="seed")


def conv_bn(x, filters: int):
    """3x3 convolution, batch-norm, ReLU: the unit of our CNNs (this one and the colour model)."""
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def dense_head(x, num_classes: int = NUM_CLASSES):
    """256 units with batch-norm, ReLU and dropout 0.3, then the logits."""
    x = layers.Dense(256, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.3)(x)
    return layers.Dense(num_classes, name="logits")(x)


def build_default(num_classes: int = NUM_CLASSES) -> keras.Model:
    """Our CNN: three stages of two 3x3 conv+BN+ReLU layers, pooling and dropout; ~0.76 M parameters.

    Two convolutions per stage see a 5x5 neighbourhood before each pooling, which recovers detail
    that blur has smeared; batch-norm after every conv keeps training stable at a high learning rate.
    """
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Rescaling(1 / 255)(inputs)
    # Light dropout: blur, flips, shifts and photo-look augmentation already regularise strongly.
    # The last stage is wider than the others: with real photos in training, it keeps Fashion-MNIST
    # accuracy for a fraction of a millisecond a call (figures in docs/experiments.md).
    for filters, drop in ((32, 0.05), (64, 0.1), (160, 0.15)):
        x = conv_bn(x, filters)
        x = conv_bn(x, filters)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(drop)(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, dense_head(x, num_classes), name="fashion_lens")


ARCHITECTURES = {"seed": build_seed, "default": build_default}


def build(arch: str, num_classes: int = NUM_CLASSES) -> keras.Model:
    try:
        return ARCHITECTURES[arch](num_classes)
    except KeyError:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {sorted(ARCHITECTURES)}") from None


def with_softmax(model: keras.Model) -> keras.Model:
    """The model the app ships: the mean of the probabilities for the picture and its mirror image.

    Items are trained with random flips, so both views are equally valid; averaging them is a
    cheap ensemble (one batched call of two images) that the shipped file carries itself, so the app,
    the CLI and ``python -m training evaluate`` all score exactly the same thing.
    """
    from fashion_desktop.core.layers import HorizontalFlip

    # A fresh copy of the trained network: wrapping the compiled one would also save its optimizer's
    # state (two more copies of every weight for Adam), tripling the file.
    trained = model
    model = keras.Model.from_config(trained.get_config())
    model.set_weights(trained.get_weights())
    image = keras.Input(tuple(model.input_shape[1:]), name="image")
    direct = layers.Softmax()(model(image))
    mirrored = layers.Softmax()(model(HorizontalFlip()(image)))
    probs = layers.Average(name="probabilities")([direct, mirrored])
    return keras.Model(image, probs, name=model.name)
