#include "app/kinds.h"

#include "controllers/changewindow/changewindow_controller.h"
#include "controllers/drill/drill_controller.h"
#include "controllers/oncall/oncall_controller.h"
#include "controllers/policy/policy_controller.h"
#include "controllers/slo/slo_controller.h"
#include "operator/alertmanager/alertmanager_flags.h"

namespace relops::app {

std::vector<std::unique_ptr<server::Kind>> kinds() {
  std::vector<std::unique_ptr<server::Kind>> all;
  // One Alertmanager for the kinds that talk to it (notices, silences).
  auto alertmanager = std::make_shared<alertmanager::Endpoint>();
  all.push_back(oncall::makeKind(alertmanager));
  all.push_back(drill::makeKind());
  all.push_back(slo::makeKind(alertmanager));
  all.push_back(policy::makeKind());
  all.push_back(changewindow::makeKind());
  return all;
}

}  // namespace relops::app
