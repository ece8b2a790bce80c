// wgf_main.cpp — the `wgf` command-line tool: dispatch to subcommands; every error becomes a one-line
// message "wgf CMD: error: ..." and exit status 1 (usage errors: "wgf CMD: usage error: --option: ..."
// and exit status 2, from each command's parser); `wgf CMD --help` lists a command's options.
#include <cstring>
#include <exception>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>

#include "wgf/wgf.h"

namespace wgf_cli {
int cmd_icnn_init(int argc, char** argv);
int cmd_icnn_eval(int argc, char** argv);
int cmd_ou(int argc, char** argv);
int cmd_jko_loss(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_em(int argc, char** argv);
int cmd_filter(int argc, char** argv);
int cmd_posterior(int argc, char** argv);
}  // namespace wgf_cli

namespace {
void usage(std::ostream& os) {
    os << "usage: wgf <command> [--option value ...]\n"
          "commands:\n"
          "  run         CONFIG.toml [--check] [--quiet] [--set section.key=value]   any flow from a config file\n"
          "              (docs/RUN.md); resumes when rerun\n"
          "  em          CONFIG.toml [--particles 1000,10000,50000] [--dt 1e-3] [--json FILE]   Euler-Maruyama + KDE\n"
          "              baselines on the same flow, same metrics\n"
          "  filter      --out DIR [--runs 15] [--observations FILE] [--particles 100,1000,10000,50000] [--sampler smc|reference]\n"
          "              the nonlinear filtering study (paper 7.5): Chang-Cooper, the JKO filter, particle filters\n"
          "  posterior   --out DIR [--datasets german,diabetis|all] [--steps 5] [--iterations 500] [--init pretrain|identity|spread]\n"
          "              Bayesian logistic regression (paper 7.4): the JKO flow, SVGD and a MALA reference\n"
          "  icnn-init   --dim D --widths W1,W2[,..] [--rank 5] [--strong-convexity 1e-6] [--seed 0] --out FILE\n"
          "  icnn-eval   --net FILE (--random N [--seed 1] | --points FILE.f64) --out PREFIX [--backend host|cuda]\n"
          "  ou          [--dims 2,4] [--instances 3] [--first-instance 0] [--steps 20] [--iterations 500] [--batch 1024] [--width 64]\n"
          "              [--tau 0.05] [--lr 5e-3] [--init pretrain|identity] [--pool on|off] [--precision float|double]\n"
          "              [--pretrain-iterations 4000] [--eval-points 8192] [--eval-times 0.5,0.9 (k*tau, k <= steps)] [--threads 0]\n"
          "              [--backend auto|host|cuda]  (auto: the CUDA device when one is visible, else host threads)\n"
          "              [--checkpoint-dir DIR] [--json FILE] [--quiet]   Ornstein-Uhlenbeck validation vs the closed form\n"
          "  jko-loss    --net FILE --points FILE.f64 --A a11,a12,.. --m m1,.. [--tau 0.05] [--beta 1] --out PREFIX\n"
          "              JKO loss (quadratic potential) and dL/dtheta as raw float64\n"
          "  info        print the version, the available backends and the host BLAS kernels in use\n"
          "'wgf <command> --help' lists a command's options with their defaults and ranges.\n";
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        usage(argc < 2 ? std::cerr : std::cout);
        return argc < 2 ? 2 : 0;
    }
    const std::string cmd = argv[1];
    try {
        if (cmd == "icnn-init") return wgf_cli::cmd_icnn_init(argc, argv);
        if (cmd == "icnn-eval") return wgf_cli::cmd_icnn_eval(argc, argv);
        if (cmd == "run") return wgf_cli::cmd_run(argc, argv);
        if (cmd == "em") return wgf_cli::cmd_em(argc, argv);
        if (cmd == "filter") return wgf_cli::cmd_filter(argc, argv);
        if (cmd == "posterior") return wgf_cli::cmd_posterior(argc, argv);
        if (cmd == "ou") return wgf_cli::cmd_ou(argc, argv);
        if (cmd == "jko-loss") return wgf_cli::cmd_jko_loss(argc, argv);
        if (cmd == "info") {
            if (argc > 2) {
                std::cerr << "wgf info: usage error: unexpected argument '" << argv[2] << "' (info takes none)\n";
                return 2;
            }
            std::cout << "wgf " << WGF_VERSION_MAJOR << "." << WGF_VERSION_MINOR << "." << WGF_VERSION_PATCH
                      << "\ncuda available: " << (wgf::cuda_available() ? "yes" : "no")
                      << "\ndefault backend: " << wgf::backend_name(wgf::default_backend()) << "\n";
            const wgf::HostBlasInfo& blas = wgf::host_blas_info();
            std::cout << "host BLAS: " << blas.library << ", kernels '" << blas.core << "' ("
                      << wgf::simd_level_name(blas.core_level) << "), " << blas.how << "\nhost CPU: "
                      << wgf::simd_level_name(blas.cpu_level) << (blas.below_cpu ? " (the BLAS kernels are below it)" : "")
                      << "\nhost BLAS build: " << blas.config << "\n";
            return 0;
        }
        std::cerr << "wgf: unknown command '" << cmd << "'\n";
        usage(std::cerr);
        return 2;
    } catch (const std::bad_alloc&) {  // an allocation no command anticipated (they name theirs)
        std::cerr << "wgf " << cmd << ": error: out of memory: the options or input files ask for more memory than "
                     "this machine can give (std::bad_alloc); use smaller sizes\n";
        return 1;
    } catch (const std::length_error& e) {
        std::cerr << "wgf " << cmd << ": error: out of memory: an array larger than the largest possible was asked for ("
                  << e.what() << "); use smaller sizes\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "wgf " << cmd << ": error: " << e.what() << "\n";
        return 1;
    } catch (...) {
        std::cerr << "wgf " << cmd << ": error: unknown exception\n";
        return 1;
    }
}
