#include "operator/kube/client.h"

namespace relops::kube {

Result<Json> apply(Client& client, const ResourceRef& resource, const Json& object,
                   const WriteOptions& options) {
  const Json& metadata = object.at("metadata");
  const ObjectKey key{metadata.value("namespace", ""), metadata.at("name").get<std::string>()};
  WriteOptions applyOptions = options;
  if (applyOptions.fieldManager.empty()) applyOptions.fieldManager = kFieldManager;
  return client.patch(resource, key, PatchType::kApply, object.dump(), applyOptions);
}

Result<ListPage> listAll(Client& client, const ResourceRef& resource, const std::string& namespace_,
                         ListOptions options) {
  ListPage all;
  auto version = listPages(
      client, resource, namespace_, std::move(options),
      [&](std::vector<Json>& items) {
        for (Json& item : items) all.items.push_back(std::move(item));
      },
      [&] { all.items.clear(); });
  if (!version.ok()) return std::move(version).error();
  all.resourceVersion = std::move(*version);
  return all;
}

Result<std::string> listPages(Client& client, const ResourceRef& resource,
                              const std::string& namespace_, ListOptions options,
                              const std::function<void(std::vector<Json>& items)>& onPage,
                              const std::function<void()>& onRestart) {
  bool restarted = false;
  while (true) {
    Result<ListPage> page = client.list(resource, namespace_, options);
    if (!page.ok()) {
      // client-go's pager: an expired continue token restarts the list once
      // without one, as a full (non-paginated) consistent read.
      if (page.error().kind() == base::ErrorKind::kGone && !options.continueToken.empty() &&
          !restarted) {
        restarted = true;
        onRestart();
        options.continueToken.clear();
        options.limit = 0;
        continue;
      }
      return std::move(page).error();
    }
    onPage(page->items);
    if (page->continueToken.empty()) return std::move(page->resourceVersion);
    // A continue token carries the list's snapshot; the API server rejects
    // resourceVersion and resourceVersionMatch beside it.
    options.continueToken = page->continueToken;
    options.resourceVersion.clear();
    options.resourceVersionMatch.clear();
  }
}

}  // namespace relops::kube
