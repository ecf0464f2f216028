"""The speed benchmark's side-by-side precisions (tiny random network: figures, not quality)."""

import json

from model import bench_speed


def test_two_precisions_run_side_by_side(tmp_path):
    out = tmp_path / "speed.json"
    bench_speed.main(["--preset", "tiny", "--context", "32", "--spans", "8,16", "--repeats", "1",
                      "--precision", "float32,bfloat16", "--json", str(out)])
    result = json.loads(out.read_text())
    runs = result["runs"]
    assert [runs[p]["dtype"] for p in runs] == ["torch.float32", "torch.bfloat16"]
    for run in runs.values():
        assert {(r["span"], r["mode"]) for r in run["table"]} == {
            (span, mode) for span in (8, 16) for mode in ("one-per-step", "parallel",
                                                          "parallel+cache")}
        assert run["equal_output"] is True or run["dtype"] == "torch.bfloat16"
    assert result["precision_speedup"]["float32"] == 1.0
    cached = {p: next(r["ms"] for r in runs[p]["table"]
                      if r["span"] == runs[p]["reference_span"] and r["mode"] == "parallel+cache")
              for p in runs}
    expected = round(cached["float32"] / cached["bfloat16"], 2)
    assert result["precision_speedup"]["bfloat16"] == expected


def test_one_precision_keeps_the_single_run_layout(tmp_path):
    out = tmp_path / "speed.json"
    bench_speed.main(["--preset", "tiny", "--context", "32", "--spans", "8", "--repeats", "1",
                      "--precision", "float32", "--json", str(out)])
    result = json.loads(out.read_text())
    assert "runs" not in result and result["dtype"] == "torch.float32"
    assert result["passes_per_token"] == 0.125 and result["equal_output"] is True
