// step_divergence.h (private) — does a JKO step's optimisation end worse than it was? The check the
// solver runs on each step's per-iteration losses (JkoSolver::run; docs/VALIDATION.md, banana).
//
// Within a step the objective is fixed and the batches are drawn from one pool (and, for a
// minibatched Φ, one data set), so the batch losses are a stationary noise around a level that Adam
// lowers and then holds. A level that ends clearly above the lowest one it reached means the
// optimiser was derailed inside the step (a batch with a point far in ρ⁰'s tails whose loss, 10¹³
// times the others', floods Adam's second moments; the loss then stays finite, so nothing else
// notices). The test, on windows of w = max(5, ⌊iterations / 10⌋) consecutive iterations:
//   level_j = median of window j,  s = 1.4826 · the median of |loss − its window's level| (the MAD:
//   robust to the outlying batches themselves),  se = 1.2533 · s / √w (the standard error of a
//   window median of Gaussian noise),
//   rise = level_last − min_j level_j;   diverged ⇔ rise > 8 · se and rise > 1e-9 · (1 + |min level|).
// A healthy step's last level sits at its plateau, whose minimum over ~10 windows is lower by about
// 1.5 se (selection), so 8 se leaves a wide margin; measured rises are in the notes of
// docs/VALIDATION.md. Fewer than 2 windows (iterations < 10): never diverged.
//
// What it cannot see: a step derailed from its first iterations has no lower level to rise from
// (measured on banana, docs/VALIDATION.md); a redone attempt is also held to the lowest level of the
// attempts before it (compare_with_earlier), which catches a retry derailed from its start. Comparing with the identity map's loss (τ·Φ on the same
// batches, a bound on the step's minimum) was tried and refused healthy steps from a heavy-tailed ρ⁰
// (german's first step), so it is not used.
#pragma once

#include <vector>

namespace wgf {
namespace detail {

struct StepDivergence {
    bool diverged = false;
    double rise_se = 0;       ///< rise / se (0 when se = 0 and there is no rise)
    double last_level = 0;    ///< the median loss of the last window
    double lowest_level = 0;  ///< the lowest window median
    double se = 0;            ///< the standard error of a window median
};

StepDivergence check_step_divergence(const std::vector<double>& losses);

/// A redone attempt of a step against the attempts before it (same objective, same pool, another
/// batch order: their levels compare): diverged also when its last level is more than 8 standard
/// errors (of both) above the lowest level an earlier attempt reached — an attempt derailed from its
/// first iterations, which has no lower level of its own. rise_se becomes the larger excess.
void compare_with_earlier(StepDivergence& attempt, const StepDivergence& earlier_best);

}  // namespace detail
}  // namespace wgf
