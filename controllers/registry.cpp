#include "controllers/registry.h"

#include "controllers/oncall/oncall_reconciler.h"
#include "operator/cli/flags.h"
#include "operator/runtime/manager.h"
#include "operator/server/http_server.h"

namespace relops::controllers {

void addControllerFlags(cli::FlagSet& flags, ControllerFlags& values) {
  flags.addBool("enable-calendars", &values.enableCalendars,
                "Serve OnCallRotation iCalendar feeds at /calendars/<namespace>/<name>.ics on "
                "the metrics address");
}

base::Result<Registered> registerControllers(runtime::Manager& manager,
                                             const ControllerFlags& flags, int workers) {
  Registered registered;
  registered.manager = &manager;
  registered.flags = flags;

  auto oncall = std::make_unique<oncall::OnCallReconciler>(manager);
  runtime::Controller::Options options;
  options.name = "oncallrotation";
  options.workers = workers;
  manager.addController(options, oncall::kOnCallRotations, *oncall);
  registered.reconcilers.push_back(std::move(oncall));
  return registered;
}

void addRoutes(server::HttpServer& server, Registered& registered) {
  if (!registered.flags.enableCalendars) return;
  runtime::Manager* manager = registered.manager;
  server.handle("GET", "/calendars/", [manager](const server::Request& request) {
    // /calendars/<namespace>/<name>.ics
    const std::string rest = request.path.substr(std::string("/calendars/").size());
    const auto slash = rest.find('/');
    if (slash == std::string::npos || !rest.ends_with(".ics")) {
      return server::Response::text(404, "not found: use /calendars/<namespace>/<name>.ics\n");
    }
    const kube::ObjectKey key{rest.substr(0, slash),
                              rest.substr(slash + 1, rest.size() - slash - 1 - 4)};
    std::optional<std::string> feed = oncall::calendarFeed(*manager, key);
    if (!feed)
      return server::Response::text(404, "no schedulable OnCallRotation " + key.str() + "\n");
    server::Response response;
    response.contentType = "text/calendar; charset=utf-8";
    response.body = std::move(*feed);
    return response;
  });
}

}  // namespace relops::controllers
