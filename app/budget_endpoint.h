// The error budget of one ServiceLevelObjective, served by the operator at /budget/ as a gate
// for progressive delivery: an Argo Rollouts AnalysisTemplate (web metric provider) reads
// `remainingPercent`; a Flagger webhook (through its load tester) or any pipeline asks with
// `?min=` and is answered 2xx to pass, 412 to fail, with the reason in the body.
//
//   GET /budget/<namespace>/<name>           the budget as JSON
//   GET /budget/<namespace>/<name>?min=20    the same, plus pass and reason: 200 when the
//                                            budget left is at least 20 % of the budget,
//                                            412 when it is below or not known yet
//
// Read from the operator's informer cache; no request body is read, answers are small.
//
// Tenancy: a bearer token is authenticated (TokenReview) and its user must be allowed to `get`
// that servicelevelobjectives.relops.dev object in that namespace (resource
// SubjectAccessReview): 401 without a valid token, 403 without the permission. 404 for an SLO
// that does not exist comes only after that, so whether it exists does not leak.
#pragma once

#include "operator/runtime/log.h"

namespace relops::runtime {
class Context;
}
namespace relops::server {
class AccessReviewer;
class HttpServer;
}  // namespace relops::server

namespace relops::app {

// `caches` is the running Manager (its informers); a test passes a FakeContext.
void addBudgetRoutes(server::HttpServer& server, runtime::Context& caches,
                     server::AccessReviewer& reviewer, runtime::Logger log);

}  // namespace relops::app
