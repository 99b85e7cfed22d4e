package dev.graft.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed and validated safetensors header.
 *
 * <p>Layout: 8 bytes little-endian header length N, N bytes of UTF-8 JSON (possibly padded with spaces), then the
 * data area. The parser is strict: well-formed JSON, a single object, no duplicate names, known dtypes, integer
 * shapes and offsets, shape x element size equal to the byte span, offsets inside the data area and not
 * overlapping, {@code __metadata__} a map of strings (or null). Headers not padded to 8 bytes and 0-d tensors are
 * accepted. Gaps between tensors and unused trailing bytes are accepted too, but reported by {@link #warnings()}
 * because the official library refuses such files.
 *
 * @implNote immutable.
 */
public final class SafetensorsHeader {
  /** Largest accepted header, as in the official library. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  private static final JsonFactory JSON =
      JsonFactory.builder()
          .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8).maxNumberLength(40).build())
          .build();

  private final String source;
  private final long headerLength;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;
  private final List<String> warnings;

  private SafetensorsHeader(
      String source, long headerLength, Map<String, TensorInfo> tensors, Map<String, String> metadata, List<String> warnings) {
    this.source = source;
    this.headerLength = headerLength;
    this.tensors = Collections.unmodifiableMap(tensors);
    this.metadata = metadata == null ? null : Collections.unmodifiableMap(metadata);
    this.warnings = List.copyOf(warnings);
  }

  /**
   * Reads the 8-byte length prefix and checks it against the file size.
   *
   * @param source file name for messages
   * @param prefix the first 8 bytes of the file (fewer if the file is shorter)
   * @param fileSize size of the whole file
   * @return the header length N
   */
  public static long checkLength(String source, ByteBuffer prefix, long fileSize) {
    if (fileSize < 8) {
      throw new SafetensorsFormatException(
          source + ": not a safetensors file: " + fileSize + " bytes, shorter than the 8-byte header length");
    }
    long n = prefix.order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
    if (n < 2 || n > MAX_HEADER_BYTES) {
      throw new SafetensorsFormatException(
          source + ": not a safetensors file: the header length at byte 0 says " + Long.toUnsignedString(n)
              + " bytes (expected 2.." + MAX_HEADER_BYTES + ")" + PickleSniffer.hint(prefix));
    }
    if (n > fileSize - 8) {
      throw new SafetensorsFormatException(
          source + ": truncated or not a safetensors file: the header length at byte 0 says " + n
              + " bytes but only " + (fileSize - 8) + " bytes follow" + PickleSniffer.hint(prefix));
    }
    return n;
  }

  /**
   * Parses and validates a header.
   *
   * @param source file name for messages
   * @param json the N header bytes
   * @param dataLength bytes in the data area (file size - 8 - N)
   * @throws SafetensorsFormatException naming the file, the tensor and the byte offset of the problem
   */
  public static SafetensorsHeader parse(String source, byte[] json, long dataLength) {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(json))
              .toString();
    } catch (CharacterCodingException e) {
      throw new SafetensorsFormatException(source + ": header (bytes 8.." + (8 + json.length) + ") is not valid UTF-8");
    }
    if (text.isEmpty() || text.charAt(0) != '{') {
      throw new SafetensorsFormatException(
          source + ": header at byte 8 does not start with '{' (found " + describe(text) + "); not a safetensors file");
    }
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    Map<String, String> metadata = null;
    boolean sawMetadata = false;
    try (JsonParser p = JSON.createParser(text)) {
      p.nextToken(); // START_OBJECT
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        if (name.equals("__metadata__")) {
          sawMetadata = true;
          metadata = parseMetadata(source, p);
        } else {
          tensors.put(name, parseTensor(source, name, p, dataLength));
        }
      }
      if (t != JsonToken.END_OBJECT) {
        throw fail(source, p, "malformed header JSON");
      }
      // only padding may follow the object
      if (p.nextToken() != null) {
        throw fail(source, p, "unexpected content after the header's JSON object");
      }
    } catch (JsonProcessingException e) {
      String msg = e.getOriginalMessage();
      long at = e.getLocation() == null ? -1 : e.getLocation().getCharOffset();
      throw new SafetensorsFormatException(
          source + ": invalid header JSON" + (at >= 0 ? " near header byte " + (8 + at) : "") + ": " + firstLine(msg)
              + (msg != null && msg.contains("Duplicate field") ? " (tensor names must be unique)" : ""));
    } catch (IOException e) {
      throw new SafetensorsFormatException(source + ": cannot parse header: " + e.getMessage());
    }
    if (sawMetadata && metadata == null) {
      metadata = null; // explicit JSON null is allowed
    }
    List<String> warnings = checkLayout(source, tensors, dataLength);
    return new SafetensorsHeader(source, json.length, tensors, metadata, warnings);
  }

  private static Map<String, String> parseMetadata(String source, JsonParser p) throws IOException {
    JsonToken t = p.nextToken();
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.START_OBJECT) {
      throw fail(source, p, "__metadata__ must be an object of strings or null, found " + t.asString());
    }
    Map<String, String> m = new LinkedHashMap<>();
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String k = p.currentName();
      if (p.nextToken() != JsonToken.VALUE_STRING) {
        throw fail(source, p, "__metadata__." + k + " must be a string, found " + p.currentToken().asString());
      }
      m.put(k, p.getText());
    }
    return m;
  }

  private static TensorInfo parseTensor(String source, String name, JsonParser p, long dataLength) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      throw fail(source, p, "tensor '" + name + "': entry must be an object with dtype, shape and data_offsets");
    }
    String dtypeTag = null;
    long[] shape = null;
    long[] offsets = null;
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      switch (key) {
        case "dtype" -> {
          if (p.nextToken() != JsonToken.VALUE_STRING) {
            throw fail(source, p, "tensor '" + name + "': dtype must be a string");
          }
          dtypeTag = p.getText();
        }
        case "shape" -> shape = readLongs(source, p, name, "shape", -1);
        case "data_offsets" -> offsets = readLongs(source, p, name, "data_offsets", 2);
        default -> {
          p.nextToken();
          p.skipChildren(); // unknown keys are ignored, as the official library does
        }
      }
    }
    if (dtypeTag == null || shape == null || offsets == null) {
      throw fail(source, p, "tensor '" + name + "': missing " + (dtypeTag == null ? "dtype" : shape == null ? "shape" : "data_offsets"));
    }
    String tag = dtypeTag;
    DType dtype =
        DType.fromTag(tag)
            .orElseThrow(
                () -> new SafetensorsFormatException(
                    source + ": tensor '" + name + "': unknown dtype '" + tag + "' (supported: "
                        + Arrays.stream(DType.values()).map(DType::tag).toList() + ")"));
    Shape s;
    long expected;
    try {
      s = Shape.of(shape);
      expected = Math.multiplyExact(s.numel(), (long) dtype.byteSize());
    } catch (ArithmeticException e) {
      throw new SafetensorsFormatException(
          source + ": tensor '" + name + "': shape " + Arrays.toString(shape) + " overflows the element count");
    }
    long begin = offsets[0];
    long end = offsets[1];
    if (begin > end) {
      throw new SafetensorsFormatException(
          source + ": tensor '" + name + "': data_offsets [" + begin + ", " + end + "] end before they begin");
    }
    if (end > dataLength) {
      throw new SafetensorsFormatException(
          source + ": tensor '" + name + "': data_offsets [" + begin + ", " + end + "] reach past the data area of "
              + dataLength + " bytes (file truncated?)");
    }
    if (end - begin != expected) {
      throw new SafetensorsFormatException(
          source + ": tensor '" + name + "': shape " + s + " of " + dtype.tag() + " needs " + expected
              + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
    }
    return new TensorInfo(name, dtype, s, begin, end);
  }

  private static long[] readLongs(String source, JsonParser p, String tensor, String field, int exactCount)
      throws IOException {
    if (p.nextToken() != JsonToken.START_ARRAY) {
      throw fail(source, p, "tensor '" + tensor + "': " + field + " must be an array of integers");
    }
    long[] buf = new long[4];
    int n = 0;
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t != JsonToken.VALUE_NUMBER_INT) {
        throw fail(source, p, "tensor '" + tensor + "': " + field + " must hold non-negative integers, found " + p.getText());
      }
      if (p.getNumberType() != JsonParser.NumberType.INT && p.getNumberType() != JsonParser.NumberType.LONG
          || p.getLongValue() < 0) {
        throw fail(source, p, "tensor '" + tensor + "': " + field + " value " + p.getText() + " is out of range");
      }
      if (n == 64) {
        throw fail(source, p, "tensor '" + tensor + "': " + field + " has more than 64 entries");
      }
      if (n == buf.length) {
        buf = Arrays.copyOf(buf, n * 2);
      }
      buf[n++] = p.getLongValue();
    }
    if (exactCount >= 0 && n != exactCount) {
      throw fail(source, p, "tensor '" + tensor + "': " + field + " must have " + exactCount + " entries, found " + n);
    }
    return Arrays.copyOf(buf, n);
  }

  private static List<String> checkLayout(String source, Map<String, TensorInfo> tensors, long dataLength) {
    List<TensorInfo> sorted = new ArrayList<>(tensors.values());
    sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    List<String> warnings = new ArrayList<>();
    long prevEnd = 0;
    TensorInfo prev = null;
    for (TensorInfo ti : sorted) {
      if (ti.byteSize() == 0) {
        continue;
      }
      if (prev != null && ti.begin() < prevEnd) {
        throw new SafetensorsFormatException(
            source + ": tensors '" + prev.name() + "' [" + prev.begin() + ", " + prev.end() + "] and '" + ti.name()
                + "' [" + ti.begin() + ", " + ti.end() + "] overlap in the data area");
      }
      if (ti.begin() > prevEnd && warnings.size() < 5) {
        warnings.add("unused bytes [" + prevEnd + ", " + ti.begin() + ") before tensor '" + ti.name() + "'");
      }
      prevEnd = ti.end();
      prev = ti;
    }
    if (prevEnd < dataLength) {
      warnings.add((dataLength - prevEnd) + " unused bytes at the end of the data area");
    }
    return warnings;
  }

  private static SafetensorsFormatException fail(String source, JsonParser p, String what) {
    long at = p.currentLocation().getCharOffset();
    return new SafetensorsFormatException(source + ": " + what + " (header byte " + (8 + Math.max(at, 0)) + ")");
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "malformed JSON";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private static String describe(String text) {
    String head = text.length() > 16 ? text.substring(0, 16) : text;
    StringBuilder sb = new StringBuilder("'");
    for (char c : head.toCharArray()) {
      sb.append(c >= 32 && c < 127 ? String.valueOf(c) : String.format("\\x%02x", (int) c & 0xff));
    }
    return sb.append('\'').toString();
  }

  /** Header length N in bytes (the data area starts at 8 + N). */
  public long headerLength() {
    return headerLength;
  }

  /** Byte offset of the data area in the file. */
  public long dataStart() {
    return 8 + headerLength;
  }

  /** Tensors in header order. */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  public Optional<TensorInfo> tensor(String name) {
    return Optional.ofNullable(tensors.get(name));
  }

  /** The {@code __metadata__} map, or null when absent or null. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Layout oddities the official library would refuse but that are safe to read. */
  public List<String> warnings() {
    return warnings;
  }

  public String source() {
    return source;
  }
}
