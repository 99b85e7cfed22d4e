package dev.graft.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.internal.DirectBuffers;
import dev.graft.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Streaming dtype conversion and resharding of a checkpoint. Floating tensors are converted to the target dtype
 * (round-to-nearest-even); integer and bool tensors are copied unchanged. Work is split into chunks of at most
 * {@link #CHUNK_ELEMENTS} elements, each read (positional reads into a reused direct buffer), converted in
 * cache-sized blocks and written on its own, so memory stays bounded whatever the tensor and model sizes.
 */
public final class Convert {
  /** Elements per chunk: 1 Mi (a few MB of direct buffers per worker). */
  public static final int CHUNK_ELEMENTS = 1 << 20;

  private Convert() {}

  /** Where and how to write. */
  public record Options(DType dtype, long maxShardBytes, int threads, boolean singleFile) {}

  /** What was written. */
  public record Result(List<Path> files, long tensors, long bytesRead, long bytesWritten) {}

  /** The output dtype of a tensor: the target for floating tensors (null keeps the input's), the input otherwise. */
  public static DType outputType(DType in, DType target) {
    return target == null || !in.isFloating() ? in : target;
  }

  /**
   * Converts {@code in} into {@code out} (a folder in Hugging Face layout, or one file when
   * {@link Options#singleFile()}); copies {@code config.json} (with {@code torch_dtype} updated) and tokenizer files.
   */
  public static Result run(Checkpoint in, Path out, Options opt, Progress progress) {
    List<SafetensorsWriter.Entry> entries = new ArrayList<>();
    for (TensorInfo ti : in.tensors().values()) {
      entries.add(new SafetensorsWriter.Entry(ti.name(), outputType(ti.dtype(), opt.dtype()), ti.shape()));
    }
    java.util.Map<String, String> md = in.metadata() == null ? java.util.Map.of("format", "pt") : in.metadata();
    long totalIn = in.byteSize();
    AtomicLong doneUnits = new AtomicLong();
    AtomicLong doneBytes = new AtomicLong();
    List<long[]> chunks = new ArrayList<>(); // (tensor index, first, count)
    List<TensorInfo> infos = new ArrayList<>(in.tensors().values());
    for (int t = 0; t < infos.size(); t++) {
      long n = infos.get(t).numel();
      if (n == 0) {
        chunks.add(new long[] {t, 0, 0});
      }
      for (long f = 0; f < n; f += CHUNK_ELEMENTS) {
        chunks.add(new long[] {t, f, Math.min(CHUNK_ELEMENTS, n - f)});
      }
    }
    long totalUnits = chunks.size();
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, opt.threads()), r -> {
      Thread th = new Thread(r, "graft-convert");
      th.setDaemon(true);
      return th;
    });
    try (SafetensorsWriter w =
        opt.singleFile() ? SafetensorsWriter.createFile(out, entries, md) : SafetensorsWriter.create(out, entries, opt.maxShardBytes(), md)) {
      List<Future<?>> fs = new ArrayList<>();
      for (long[] c : chunks) {
        fs.add(pool.submit(() -> {
          TensorInfo ti = infos.get((int) c[0]);
          DType to = w.entry(ti.name()).dtype();
          int count = (int) c[2];
          // one sequential pass: positional reads into a direct buffer beat page-faulting a fresh mapping here
          ByteBuffer raw = READ_BUFFER.get(count * ti.dtype().byteSize());
          in.read(ti.name(), c[1], count, raw);
          raw.flip();
          if (to == ti.dtype()) {
            w.write(ti.name(), c[1] * to.byteSize(), raw);
          } else {
            ByteBuffer conv = SafetensorsWriter.stagingBuffer(count * to.byteSize());
            DTypeCodec.convert(MemorySegment.ofBuffer(raw), 0, ti.dtype(), MemorySegment.ofBuffer(conv), 0, to, count);
            conv.limit(count * to.byteSize());
            w.write(ti.name(), c[1] * to.byteSize(), conv);
          }
          progress.update(doneUnits.incrementAndGet(), totalUnits, doneBytes.addAndGet(c[2] * ti.dtype().byteSize()), totalIn);
          return null;
        }));
      }
      for (Future<?> f : fs) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          fs.forEach(x -> x.cancel(true));
          throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        }
      }
      List<Path> files = new ArrayList<>(w.finish());
      if (!opt.singleFile()) {
        files.addAll(copySidecars(in, out, opt.dtype()));
      }
      long written = entries.stream().mapToLong(SafetensorsWriter.Entry::byteSize).sum();
      return new Result(files, entries.size(), totalIn, written);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } finally {
      pool.shutdownNow();
    }
  }

  private static final DirectBuffers READ_BUFFER = new DirectBuffers();

  /** Copies config.json (torch_dtype updated) and tokenizer files next to the weights. */
  public static List<Path> copySidecars(Checkpoint in, Path out, DType dtype) {
    List<Path> files = new ArrayList<>();
    try {
      if (in.config().isPresent()) {
        ObjectNode cfg = in.config().get().json();
        if (dtype != null) {
          cfg.put("torch_dtype", torchName(dtype));
        }
        Path c = out.resolve("config.json");
        AtomicFiles.writeString(c, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(cfg) + "\n");
        files.add(c);
      }
      for (Path aux : in.auxiliaryFiles()) {
        Path dst = out.resolve(aux.getFileName().toString());
        if (!Files.isSameFile(aux.getParent(), out)) {
          Files.copy(aux, dst, StandardCopyOption.REPLACE_EXISTING);
        }
        files.add(dst);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("copying config and tokenizer files to " + out + ": " + e.getMessage(), e);
    }
    return files;
  }

  /** PyTorch's name of a dtype, as config.json's torch_dtype holds it. */
  public static String torchName(DType d) {
    return switch (d) {
      case BF16 -> "bfloat16";
      case F16 -> "float16";
      case F32 -> "float32";
      case F64 -> "float64";
      case F8_E4M3 -> "float8_e4m3fn";
      case F8_E5M2 -> "float8_e5m2";
      default -> d.tag().toLowerCase(java.util.Locale.ROOT);
    };
  }
}
