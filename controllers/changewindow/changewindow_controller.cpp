#include "controllers/changewindow/changewindow_controller.h"

#include "controllers/changewindow/changewindow_reconciler.h"
#include "operator/runtime/manager.h"

namespace relops::changewindow {
namespace {

class ChangeWindowKind final : public server::Kind {
 public:
  std::vector<kube::ResourceRef> primaries() const override { return {kChangeWindows}; }

  void addFlags(cli::FlagSet&) override {}

  base::Result<void> setup(runtime::Manager& manager, int workers) override {
    reconciler_ = std::make_unique<ChangeWindowReconciler>(manager);
    ChangeWindowReconciler::add(manager, *reconciler_, workers);
    return {};
  }

 private:
  std::unique_ptr<ChangeWindowReconciler> reconciler_;
};

}  // namespace

std::unique_ptr<server::Kind> makeKind() { return std::make_unique<ChangeWindowKind>(); }

}  // namespace relops::changewindow
