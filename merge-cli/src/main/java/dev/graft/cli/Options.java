package dev.graft.cli;

import dev.graft.io.ByteSize;
import dev.graft.tensor.DType;
import picocli.CommandLine;

/** Converters for option values, turning bad values into exit code 2 with the accepted forms. */
final class Options {
  private Options() {}

  static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return ByteSize.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  static final class DTypeConverter implements CommandLine.ITypeConverter<DType> {
    @Override
    public DType convert(String value) {
      try {
        return DType.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
