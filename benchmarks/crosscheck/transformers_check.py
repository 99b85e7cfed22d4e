"""Compares Graft's logits (written by `graft logits -o`) with transformers on the same checkpoints.

Usage: python3 transformers_check.py DIR [--out results.json]
DIR holds one folder per model (made by make.sh), each with graft-ids.safetensors and graft-text.safetensors.
For every model: transformers in float32 on CUDA (when present) and on CPU, and in float64 on CPU as the
most exact reference; reports the largest absolute logit difference relative to the largest logit, and
whether the arg-max token agrees at every position. Also checks that transformers' tokenizer gives the ids
Graft's tokenizer (DJL's binding of Hugging Face tokenizers) gave for the text prompt.
"""
import json
import pathlib
import sys

import torch
import transformers
from safetensors.torch import load_file


def compare(got, want):
    diff = (got.double() - want.double()).abs().max().item()
    scale = want.double().abs().max().item()
    agree = (got.argmax(-1) == want.argmax(-1)).float().mean().item()
    return {"max_abs_diff": diff, "max_abs_logit": scale, "relative": diff / scale, "argmax_agreement": agree}


def main():
    root = pathlib.Path(sys.argv[1])
    out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None
    report = {"transformers": transformers.__version__, "torch": torch.__version__,
              "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, "models": {}}
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        r = {}
        try:
            ids_file = load_file(str(d / "graft-ids.safetensors"))
            text_file = load_file(str(d / "graft-text.safetensors"))
            ids = ids_file["input_ids"].long()[None]
            graft = ids_file["logits"]
            cfg = json.loads((d / "config.json").read_text())
            r["model_type"] = cfg["model_type"]
            runs = [("cpu", torch.float64), ("cpu", torch.float32)]
            if torch.cuda.is_available():
                runs.append(("cuda", torch.float32))
            ref = {}
            for device, dtype in runs:
                m = transformers.AutoModelForCausalLM.from_pretrained(str(d), torch_dtype=dtype).to(device).eval()
                with torch.no_grad():
                    ref[(device, dtype)] = m(ids.to(device)).logits[0].double().cpu()
                    if device == "cpu" and dtype == torch.float64:
                        text_logits = m(text_file["input_ids"].long()[None]).logits[0].double()
                del m
            f64 = ref[("cpu", torch.float64)]
            r["graft_vs_hf_f64_cpu"] = compare(graft, f64)
            r["hf_f32_cpu_vs_hf_f64_cpu"] = compare(ref[("cpu", torch.float32)], f64)
            if torch.cuda.is_available():
                r["graft_vs_hf_f32_cuda"] = compare(graft, ref[("cuda", torch.float32)])
                r["hf_f32_cuda_vs_hf_f64_cpu"] = compare(ref[("cuda", torch.float32)], f64)
            r["text_graft_vs_hf_f64_cpu"] = compare(text_file["logits"], text_logits)
            tok = transformers.AutoTokenizer.from_pretrained(str(d))
            text = (d / "graft-text.txt").read_text().rstrip("\n")
            hf_ids = tok(text, add_special_tokens=True)["input_ids"]
            hf_plain = tok(text, add_special_tokens=False)["input_ids"]
            graft_ids = text_file["input_ids"].tolist()
            r["tokenizer"] = {"graft": graft_ids, "hf_with_specials": hf_ids,
                              "same_as_hf_with_specials": graft_ids == hf_ids, "same_as_hf_plain": graft_ids == hf_plain}
        except Exception as e:  # report and go on with the next model
            r["error"] = f"{type(e).__name__}: {e}"
        report["models"][d.name] = r
        print(d.name, json.dumps({k: v for k, v in r.items() if k != "tokenizer"}), flush=True)
        if "tokenizer" in r:
            print("  tokenizer same as HF (specials / plain):", r["tokenizer"]["same_as_hf_with_specials"],
                  r["tokenizer"]["same_as_hf_plain"], flush=True)
    text = json.dumps(report, indent=2)
    if out:
        pathlib.Path(out).write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
