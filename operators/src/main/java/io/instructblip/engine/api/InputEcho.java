package io.instructblip.engine.api;

/**
 * How error messages quote what a request carried: at most {@link #MAX_CHARS} characters, then the
 * full length, so that an error response never grows with its input (a 600 KB URI echoed twice once
 * made a response too large for its topic).
 *
 * <pre>{@code
 * throw new EngineException(ErrorCode.IMAGE_URI_FORBIDDEN, "uri " + InputEcho.abbreviate(uri) + " ...");
 * }</pre>
 */
public final class InputEcho {
  /** The most characters of an input an error message quotes. */
  public static final int MAX_CHARS = 200;

  private InputEcho() {}

  /** {@code value} if short, else its first {@link #MAX_CHARS} characters and its length. */
  public static String abbreviate(String value) {
    if (value == null || value.length() <= MAX_CHARS) {
      return value;
    }
    int end = MAX_CHARS;
    if (Character.isHighSurrogate(value.charAt(end - 1))) {
      end--;
    }
    return value.substring(0, end) + "... (" + value.length() + " characters)";
  }
}
