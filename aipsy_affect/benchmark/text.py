"""The fixed-width text table ``aipsy-affect score`` prints."""

from __future__ import annotations

from aipsy_affect.benchmark.format import show_id
from aipsy_affect.benchmark.report import ScoreReport

__all__ = ["format_table"]


def _ci(interval: tuple[float, float], digits: int = 4) -> str:
    return f"[{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"


def format_table(report: ScoreReport) -> str:
    """A human-readable table of a report: headlines first, then one row per layer."""
    pct = round(report.ci_level * 100)
    head = (
        f"{'layer':>5}  {f'affect AUROC [{pct}% CI]':<24}  {'mod':>5}  {'cneu':>5}  {'cFPR':>5}  "
        f"{f'category AUROC [{pct}% CI]':<24}  {'top1':>5}  {'m-cat':>5}"
    )
    if report.has_twins:
        head += f"  {'kw-shift':>8}  {'kw-win':>6}"
    folds = report.outer_folds
    lines = [
        f"model   {show_id(report.model.id)} @ {show_id(report.model.revision)}",
        f"method  {show_id(report.method.name)}, pooling {show_id(report.method.pooling)}, "
        f"{report.method.cv_folds}-fold CV",
        f"main score (category macro AUROC, layer chosen by {folds}-fold cross-validation): "
        f"{report.main_score:.4f} {_ci(report.main_score_ci)}; layers chosen {report.main_layers}",
        f"affect score (clinical vs neutral AUROC, cross-validated layer): {report.affect_score:.4f} "
        f"{_ci(report.affect_score_ci)}; layers chosen {report.affect_layers}",
        f"in-sample best layer {report.best_layer}: {report.best_layer_score:.4f} (optimistic: chosen on the items it "
        f"is scored on); best affect layer {report.best_affect_layer}",
        f"{report.n_bootstrap} pair-bootstrap resamples, seed {report.seed}",
        "",
        head,
    ]
    for s in report.layers:
        mark = "*" if s.layer == report.main_layer else " "
        row = (
            f"{s.layer:>4}{mark}  {s.affect_auroc:.3f} [{s.affect_auroc_ci[0]:.3f}, {s.affect_auroc_ci[1]:.3f}]"
            f"{'':<3}  {s.moderate_auroc:>5.3f}  {s.complex_auroc:>5.3f}  {s.complex_fpr:>5.3f}  "
            f"{s.category_macro_auroc:.3f} [{s.category_macro_auroc_ci[0]:.3f}, {s.category_macro_auroc_ci[1]:.3f}]"
            f"{'':<3}  {s.category_top1:>5.3f}  {s.moderate_category_macro_auroc:>5.3f}"
        )
        if report.has_twins and s.keyword_shift is not None and s.keyword_win_rate is not None:
            row += f"  {s.keyword_shift:>8.3f}  {s.keyword_win_rate:>6.3f}"
        lines.append(row)
    lines.append("")
    lines.append(
        "* = the layer the outer folds chose most often; mod = moderate vs neutral AUROC; cneu = clinical vs "
        "complex_neutral AUROC; cFPR = complex_neutral false-positive rate at the balanced threshold; m-cat = "
        "moderate category macro AUROC" + ("; kw = keyword twin minus vignette" if report.has_twins else "")
    )
    stamp = f"aipsy-affect {report.aipsy_affect_version}, score v{report.score_version}"
    if report.data_sha256:
        stamp += f", data {report.data_sha256[:12]}"
    lines.append(stamp)
    return "\n".join(lines)
