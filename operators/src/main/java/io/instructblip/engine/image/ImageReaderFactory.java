package io.instructblip.engine.image;

import com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi;
import com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;

/**
 * Creates the {@link ImageReader} for each {@link ImageFormat}. The TwelveMonkeys readers (JPEG,
 * WebP) are looked up in, or registered with, the ImageIO registry explicitly, so decoding does not
 * depend on which class loader ImageIO happened to scan first (Flink loads job code in a child
 * class loader).
 */
final class ImageReaderFactory {

  private static final class TwelveMonkeys {
    static final ImageReaderSpi JPEG = findOrRegister(JPEGImageReaderSpi.class);
    static final ImageReaderSpi WEBP = findOrRegister(WebPImageReaderSpi.class);
  }

  private ImageReaderFactory() {}

  /** A new reader for {@code format}; the caller disposes it. */
  static ImageReader create(ImageFormat format) throws IOException {
    switch (format) {
      case JPEG:
        return TwelveMonkeys.JPEG.createReaderInstance();
      case WEBP:
        return TwelveMonkeys.WEBP.createReaderInstance();
      default:
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.formatName());
        if (!readers.hasNext()) {
          throw new IOException("no ImageIO reader for " + format + " in this JVM");
        }
        return readers.next();
    }
  }

  private static synchronized <T extends ImageReaderSpi> ImageReaderSpi findOrRegister(
      Class<T> type) {
    IIORegistry registry = IIORegistry.getDefaultInstance();
    T registered = registry.getServiceProviderByClass(type);
    if (registered != null) {
      return registered;
    }
    try {
      T provider = type.getDeclaredConstructor().newInstance();
      // Registration lets the provider find its delegate (TwelveMonkeys JPEG wraps the JDK reader).
      registry.registerServiceProvider(provider, ImageReaderSpi.class);
      return provider;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot create image reader provider " + type.getName(), e);
    }
  }
}
