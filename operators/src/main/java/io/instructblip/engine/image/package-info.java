/**
 * Image input: decoding with limits ({@link io.instructblip.engine.image.ImageDecoder}), Pillow's
 * RGB conversion and EXIF orientation, Pillow's bicubic resize ({@link
 * io.instructblip.engine.image.PilBicubicResizer}) and normalisation into {@code pixel_values}
 * ({@link io.instructblip.engine.image.ImagePreprocessor}), matching the reference preprocessing of
 * docs/model-format.md pixel for pixel.
 */
package io.instructblip.engine.image;
