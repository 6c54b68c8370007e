// The reliability report (app/report) served by the operator at /reports/: the same report as
// `relops report`, read from the operator's informer caches.
//
//   GET /reports/<namespace>?period=2026-11&format=html   one namespace
//   GET /reports/?period=2026-Q4&format=json              every watched namespace
//   (period: a month, quarter or ISO week; or from=&to=; default the current month so far;
//    format: html (default), md, json)
//
// Tenancy: a bearer token is authenticated (TokenReview) and its user must be allowed to list
// servicelevelobjectives.relops.dev in that namespace — cluster-wide for /reports/ —
// (SubjectAccessReview): 401 without a valid token, 403 otherwise. Each other kind is included
// only where the user may list it too, so a report never shows what the caller could not read.
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

// `caches` is the running Manager (its informers, its clock); a test passes a FakeContext.
void addReportRoutes(server::HttpServer& server, runtime::Context& caches,
                     server::AccessReviewer& reviewer, runtime::Logger log);

}  // namespace relops::app
