package dev.graft.io;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Locale;

/** Recognises checkpoint formats Graft refuses to read (pickle, torch zip, GGUF) and explains how to convert them. */
final class PickleSniffer {
  static final String HOW_TO_CONVERT =
      "Graft never loads pickle checkpoints: unpickling runs arbitrary code from the file. Convert it once with"
          + " Python: `from safetensors.torch import save_file; import torch;"
          + " save_file(torch.load('IN', weights_only=True), 'model.safetensors')`, or for a Hugging Face model"
          + " `AutoModel.from_pretrained(DIR).save_pretrained(OUT, safe_serialization=True)`.";

  private PickleSniffer() {}

  /** A hint to append to a header error when the first bytes look like another format; empty otherwise. */
  static String hint(ByteBuffer prefix) {
    int n = prefix.limit();
    if (n >= 2 && (prefix.get(0) & 0xff) == 0x80 && prefix.get(1) >= 2 && prefix.get(1) <= 5) {
      return ". The file is a Python pickle (a PyTorch .bin/.pt checkpoint). " + HOW_TO_CONVERT;
    }
    if (n >= 4 && prefix.get(0) == 'P' && prefix.get(1) == 'K' && prefix.get(2) == 3 && prefix.get(3) == 4) {
      return ". The file is a zip archive, as torch.save writes (a pickle inside). " + HOW_TO_CONVERT;
    }
    if (n >= 4 && prefix.get(0) == 'G' && prefix.get(1) == 'G' && prefix.get(2) == 'U' && prefix.get(3) == 'F') {
      return ". The file is GGUF (llama.cpp), which Graft does not read; use the original safetensors checkpoint.";
    }
    return "";
  }

  /** True for file names of pickle-based checkpoints. */
  static boolean isPickleName(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return n.endsWith(".bin") || n.endsWith(".pt") || n.endsWith(".pth") || n.endsWith(".ckpt") || n.endsWith(".pkl");
  }
}
