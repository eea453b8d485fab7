package io.instructblip.engine.image;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.util.Arrays;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;

/**
 * Places the first frame of a GIF on its logical screen as Pillow 9.4 does: the image is the
 * screen's size (grown to hold the frame if the frame sticks out), the frame is drawn at its
 * offset, and the rest is filled with the colour at the frame's transparent index, or at index 0
 * when it has none (not the background colour). The JDK reader returns the frame alone.
 */
final class GifScreen {

  private static final String STREAM_FORMAT = "javax_imageio_gif_stream_1.0";
  private static final String IMAGE_FORMAT = "javax_imageio_gif_image_1.0";

  final int width;
  final int height;
  private final int left;
  private final int top;
  private final int transparentIndex;

  private GifScreen(int width, int height, int left, int top, int transparentIndex) {
    this.width = width;
    this.height = height;
    this.left = left;
    this.top = top;
    this.transparentIndex = transparentIndex;
  }

  /** The screen of the GIF in {@code reader} and the placement of its first frame. */
  static GifScreen of(ImageReader reader) throws IOException {
    int frameWidth = reader.getWidth(0);
    int frameHeight = reader.getHeight(0);
    Node lsd = child(tree(reader.getStreamMetadata(), STREAM_FORMAT), "LogicalScreenDescriptor");
    Node image = tree(reader.getImageMetadata(0), IMAGE_FORMAT);
    Node descriptor = child(image, "ImageDescriptor");
    Node control = child(image, "GraphicControlExtension");
    int left = intAttribute(descriptor, "imageLeftPosition", 0);
    int top = intAttribute(descriptor, "imageTopPosition", 0);
    int screenWidth = intAttribute(lsd, "logicalScreenWidth", frameWidth);
    int screenHeight = intAttribute(lsd, "logicalScreenHeight", frameHeight);
    int transparent = -1;
    if (control != null && "TRUE".equalsIgnoreCase(attribute(control, "transparentColorFlag"))) {
      transparent = intAttribute(control, "transparentColorIndex", -1);
    }
    return new GifScreen(
        Math.max(screenWidth, left + frameWidth),
        Math.max(screenHeight, top + frameHeight),
        left,
        top,
        transparent);
  }

  /** {@code frameRgb} (TYPE_INT_RGB) on the screen; {@code frameModel} gives the fill colour. */
  BufferedImage compose(BufferedImage frameRgb, ColorModel frameModel) {
    int fw = frameRgb.getWidth();
    int fh = frameRgb.getHeight();
    if (left == 0 && top == 0 && width == fw && height == fh) {
      return frameRgb;
    }
    int fill = 0;
    if (frameModel instanceof IndexColorModel palette) {
      int index =
          transparentIndex >= 0 && transparentIndex < palette.getMapSize() ? transparentIndex : 0;
      fill = palette.getRGB(index) & 0xFFFFFF;
    }
    BufferedImage screen = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    int[] dst = PilRgbConverter.pixels(screen);
    Arrays.fill(dst, fill);
    int[] src = PilRgbConverter.pixels(frameRgb);
    for (int y = 0; y < fh; y++) {
      System.arraycopy(src, y * fw, dst, (top + y) * width + left, fw);
    }
    return screen;
  }

  private static Node tree(IIOMetadata metadata, String format) {
    if (metadata == null) {
      return null;
    }
    try {
      return metadata.getAsTree(format);
    } catch (IllegalArgumentException notSupported) {
      return null;
    }
  }

  private static Node child(Node parent, String name) {
    if (parent == null) {
      return null;
    }
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (name.equals(n.getNodeName())) {
        return n;
      }
    }
    return null;
  }

  private static String attribute(Node node, String name) {
    NamedNodeMap attributes = node.getAttributes();
    Node value = attributes == null ? null : attributes.getNamedItem(name);
    return value == null ? null : value.getNodeValue();
  }

  private static int intAttribute(Node node, String name, int fallback) {
    if (node == null) {
      return fallback;
    }
    String value = attribute(node, name);
    try {
      return value == null ? fallback : Integer.parseInt(value);
    } catch (NumberFormatException e) {
      return fallback;
    }
  }
}
