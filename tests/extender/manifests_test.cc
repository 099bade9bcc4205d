#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include <gtest/gtest.h>

#include "common/files/file_text.h"
#include "extender/model/kube_names.h"
#include "extender/model/pod_group.h"
#include "extender/plan/object_list.h"
#include "extender/provisioner/lease_elector.h"
#include "extender/service/shared_reservations.h"

// The manifests as `kubectl apply -k` would install them, checked without kubectl: a small renderer below
// follows what kustomize does with `resources`, `components`, `patches` (JSON 6902 with a target), `images`
// and `namespace`, and the tests read the rendered objects (where kubectl is installed, a test below checks that
// it renders the same, and the manifests_render test runs it on every kustomization).
namespace tpustack::extender {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kManifests = fs::path(TPUSTACK_SOURCE_DIR) / "manifests";
const fs::path kExtender = kManifests / "extender";
const std::string kDir = kExtender.string() + "/";

// The Secrets holding the two certificates (extender/README.md "Manifests"). The reservations ConfigMap
// (kReservationsConfigMap) and the Lease (provisioning::LeaseSettings) are named by the C++ side.
constexpr std::string_view kServerSecret = "tpu-extender-tls";
constexpr std::string_view kClientSecret = "tpu-scheduler-client-tls";

std::vector<json> read_objects(const std::string& path) {
  return parse_object_list(files::read_file_text(path, "manifest").value(), path).value();
}

std::vector<json> load(const std::string& file) { return read_objects(kDir + file); }

// ---- a small kustomize ----

const std::set<std::string> kClusterScoped = {"Namespace",
                                              "ClusterRole",
                                              "ClusterRoleBinding",
                                              "PriorityClass",
                                              "StorageClass",
                                              "CustomResourceDefinition",
                                              "ClusterIssuer",
                                              "MutatingWebhookConfiguration",
                                              "ValidatingWebhookConfiguration",
                                              "APIService"};

bool namespaced(const json& object) { return !kClusterScoped.contains(object.value("kind", "")); }

std::string ns_of(const json& object) { return object["metadata"].value("namespace", ""); }

// What the small kustomize follows: any other key would be ignored here but applied by kubectl.
const std::set<std::string> kKustomizationKeys = {"apiVersion", "kind",   "resources", "components",
                                                  "patches",    "images", "namespace"};

json kustomization_of(const fs::path& dir) {
  json kustomization = read_objects((dir / "kustomization.yaml").string()).at(0);
  for (const auto& item : kustomization.items()) {
    if (!kKustomizationKeys.contains(item.key()))
      throw std::runtime_error(dir.string() + ": `" + item.key() + "` is not followed here");
  }
  return kustomization;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// kustomize's patch target: kind, name, group, version (each only when given).
bool selects(const json& target, const json& object) {
  const std::string api_version = object.value("apiVersion", "");
  const auto slash = api_version.find('/');
  const std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  const std::string version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
  return (!target.contains("kind") || target["kind"] == object.value("kind", "")) &&
         (!target.contains("name") || target["name"] == object["metadata"].value("name", "")) &&
         (!target.contains("group") || target["group"] == group) &&
         (!target.contains("version") || target["version"] == version) &&
         (!target.contains("namespace") || target["namespace"] == ns_of(object));
}

void apply_patches(const json& kustomization, const fs::path& dir, std::vector<json>& objects) {
  for (const auto& entry : kustomization.value("patches", json::array())) {
    if (!entry.contains("target")) throw std::runtime_error(dir.string() + ": a patch without a target");
    const std::string text =
        entry.contains("patch") ? entry["patch"].get<std::string>() : read_text(dir / entry["path"].get<std::string>());
    json operations = json::array();
    const auto patch = parse_object_list(text, dir.string() + " patch").value();
    for (const auto& operation : patch) operations.push_back(operation);
    int matched = 0;
    for (auto& object : objects) {
      if (!selects(entry["target"], object)) continue;
      object = object.patch(operations);
      ++matched;
    }
    if (matched == 0)
      throw std::runtime_error(dir.string() + ": patch target " + entry["target"].dump() + " matches nothing");
  }
}

// Where a kind keeps its pod template(s): JSON pointers into the object (none for kinds without pods).
std::vector<json::json_pointer> pod_spec_paths(const json& object) {
  const std::string kind = object.value("kind", "");
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet" || kind == "Job") {
    return {json::json_pointer("/spec/template/spec")};
  }
  if (kind == "CronJob") return {json::json_pointer("/spec/jobTemplate/spec/template/spec")};
  if (kind == "Pod") return {json::json_pointer("/spec")};
  std::vector<json::json_pointer> paths;
  if (kind == "JobSet") {
    for (size_t i = 0; i < object["spec"].value("replicatedJobs", json::array()).size(); ++i) {
      paths.emplace_back("/spec/replicatedJobs/" + std::to_string(i) + "/template/spec/template/spec");
    }
  }
  return paths;
}

// Every container of an object's pod templates, init containers included, with its pod spec.
template <typename Json, typename Visit>
void for_each_container(Json& object, Visit visit) {
  for (const auto& path : pod_spec_paths(object)) {
    auto& pod = object.at(path);
    for (const char* list : {"initContainers", "containers"}) {
      if (!pod.contains(list)) continue;
      for (auto& c : pod.at(list)) visit(pod, c);
    }
  }
}

// An image reference without its tag or digest: what kustomize's `images: [{name: ...}]` matches.
std::string image_name(const std::string& image) {
  std::string name = image.substr(0, image.find('@'));
  const auto colon = name.rfind(':');
  const auto slash = name.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) name.resize(colon);
  return name;
}

void apply_images(const json& kustomization, std::vector<json>& objects) {
  for (const auto& entry : kustomization.value("images", json::array())) {
    for (auto& object : objects) {
      for_each_container(object, [&](json&, json& c) {
        const std::string image = c.value("image", "");
        const std::string name = image_name(image);
        if (name != entry["name"]) return;
        std::string rest = image.substr(name.size());  // ":tag", "@digest" or nothing
        if (entry.contains("newTag")) rest = ":" + entry["newTag"].get<std::string>();
        if (entry.contains("digest")) rest = "@" + entry["digest"].get<std::string>();
        c["image"] = entry.value("newName", name) + rest;
      });
    }
  }
}

std::vector<json> build(const fs::path& dir);
void apply_component(const fs::path& dir, std::vector<json>& objects);

void add_resources(const json& kustomization, const fs::path& dir, std::vector<json>& objects) {
  for (const auto& resource : kustomization.value("resources", json::array())) {
    const fs::path path = dir / resource.get<std::string>();
    std::vector<json> more = fs::is_directory(path) ? build(path) : read_objects(path.string());
    if (more.empty()) throw std::runtime_error(path.string() + " has no objects");
    objects.insert(objects.end(), more.begin(), more.end());
  }
  for (const auto& component : kustomization.value("components", json::array())) {
    apply_component(dir / component.get<std::string>(), objects);
  }
}

void apply_component(const fs::path& dir, std::vector<json>& objects) {
  const json kustomization = kustomization_of(dir);
  if (kustomization.value("kind", "") != "Component") throw std::runtime_error(dir.string() + " is not a Component");
  if (kustomization.value("apiVersion", "") != "kustomize.config.k8s.io/v1alpha1") {
    throw std::runtime_error(dir.string() + ": a Component's apiVersion is kustomize.config.k8s.io/v1alpha1");
  }
  add_resources(kustomization, dir, objects);
  apply_patches(kustomization, dir, objects);
  apply_images(kustomization, objects);
}

// `kubectl kustomize DIR`.
std::vector<json> build(const fs::path& dir) {
  const json kustomization = kustomization_of(dir);
  if (kustomization.value("kind", "Kustomization") != "Kustomization") {
    throw std::runtime_error(dir.string() + " is not a Kustomization");
  }
  std::vector<json> objects;
  add_resources(kustomization, dir, objects);
  apply_patches(kustomization, dir, objects);
  apply_images(kustomization, objects);
  if (kustomization.contains("namespace")) {  // kustomize overrides every namespaced object's namespace
    for (auto& object : objects) {
      if (namespaced(object)) object["metadata"]["namespace"] = kustomization["namespace"];
    }
  }
  return objects;
}

// A kustomization of your own: `resources: [manifests/extender]`, `components: [...]`.
std::vector<json> install(const std::vector<fs::path>& resources, const std::vector<fs::path>& components = {}) {
  std::vector<json> objects;
  for (const auto& dir : resources) {
    auto more = build(dir);
    objects.insert(objects.end(), more.begin(), more.end());
  }
  for (const auto& dir : components) apply_component(dir, objects);
  return objects;
}

const json* lookup(const std::vector<json>& objects, const std::string& kind, const std::string& name,
                   const std::string& ns = "") {
  for (const auto& object : objects) {
    if (object.value("kind", "") == kind && object["metadata"].value("name", "") == name && ns_of(object) == ns) {
      return &object;
    }
  }
  return nullptr;
}

const json& find(const std::vector<json>& objects, const std::string& kind, const std::string& name,
                 const std::string& ns) {
  if (const json* object = lookup(objects, kind, name, ns)) return *object;
  throw std::runtime_error("no " + kind + " " + ns + "/" + name);
}

// Objects as written in one file (namespaces are written out in manifests/extender).
const json& find(const std::vector<json>& objects, const std::string& kind, const std::string& name) {
  for (const auto& object : objects) {
    if (object.value("kind", "") == kind && object["metadata"].value("name", "") == name) return object;
  }
  throw std::runtime_error("no " + kind + " " + name);
}

// ---- pods, flags, mounts ----

const json& container(const json& workload, const std::string& name) {
  for (const auto& c : workload["spec"]["template"]["spec"]["containers"]) {
    if (c["name"] == name) return c;
  }
  throw std::runtime_error("no container " + name);
}

std::vector<std::string> command_line(const json& c) {
  std::vector<std::string> words;
  for (const char* key : {"command", "args"}) {
    for (const auto& word : c.value(key, json::array())) words.push_back(word.get<std::string>());
  }
  return words;
}

// Every value of a flag, written `--flag=value` or `--flag value`.
std::vector<std::string> flag_values(const std::vector<std::string>& words, const std::string& flag) {
  std::vector<std::string> values;
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i].starts_with(flag + "=")) values.push_back(words[i].substr(flag.size() + 1));
    if (words[i] == flag && i + 1 < words.size()) values.push_back(words[++i]);
  }
  return values;
}

std::string flag(const std::vector<std::string>& words, const std::string& flag) {
  auto values = flag_values(words, flag);
  return values.size() == 1 ? values[0] : "";
}

bool has_flag(const std::vector<std::string>& words, const std::string& flag) {
  for (const auto& word : words) {
    if (word == flag || word.starts_with(flag + "=")) return true;
  }
  return false;
}

int port_of(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  return colon == std::string::npos ? -1 : std::stoi(host_port.substr(colon + 1));
}

int container_port(const json& c, const std::string& name) {
  for (const auto& port : c.value("ports", json::array())) {
    if (port.value("name", "") == name) return port["containerPort"];
  }
  return -1;
}

// What a file in a container comes from: "secret NAME/KEY" or "configMap NAME/KEY"; "" when no volume gives it.
std::string mounted_from(const json& workload, const json& c, const std::string& file) {
  for (const auto& mount : c.value("volumeMounts", json::array())) {
    const std::string dir = mount["mountPath"];
    if (!file.starts_with(dir + "/") || mount.contains("subPath")) continue;
    const std::string rest = file.substr(dir.size() + 1);
    for (const auto& volume : workload["spec"]["template"]["spec"].value("volumes", json::array())) {
      if (volume["name"] != mount["name"]) continue;
      for (const auto& [source, name_key] : {std::pair{"secret", "secretName"}, std::pair{"configMap", "name"}}) {
        if (!volume.contains(source)) continue;
        const std::string name = volume[source][name_key];
        if (!volume[source].contains("items")) return std::string(source) + " " + name + "/" + rest;
        for (const auto& item : volume[source]["items"]) {
          if (item["path"] == rest) return std::string(source) + " " + name + "/" + item["key"].get<std::string>();
        }
      }
    }
  }
  return "";
}

bool labels_match(const json& match_labels, const json& labels) {
  for (const auto& [key, value] : match_labels.items()) {
    if (!labels.contains(key) || labels[key] != value) return false;
  }
  return !match_labels.empty();
}

const json& pod_labels(const json& workload) { return workload["spec"]["template"]["metadata"]["labels"]; }

json scheduler_config(const std::vector<json>& objects) {
  const auto& config_map = find(objects, "ConfigMap", "tpu-scheduler-config", "tpu-system");
  return parse_object_list(config_map["data"]["config.yaml"].get<std::string>(), "config.yaml").value().at(0);
}

std::string fieldpath_for(const std::string_view annotation) {
  return "metadata.annotations['" + std::string(annotation) + "']";
}

std::map<std::string, std::vector<std::string>> verbs_by_resource(const json& role) {
  std::map<std::string, std::vector<std::string>> verbs;
  for (const auto& rule : role["rules"]) {
    for (const auto& resource : rule["resources"]) verbs[resource] = rule["verbs"].get<std::vector<std::string>>();
  }
  return verbs;
}

// ---- the installs ----

std::vector<json> default_install() { return install({kExtender}); }
std::vector<json> with_gke_provisioner() { return install({kExtender}, {kExtender / "provisioner" / "gke"}); }
std::vector<json> with_simulated_provisioner() {
  return install({kManifests}, {kExtender / "provisioner" / "simulated"});
}
std::vector<json> with_cert_manager() {
  return install({kExtender, kExtender / "cert-manager"}, {kExtender / "cert-manager" / "webhook"});
}
std::vector<json> gke_overlay() { return build(kManifests / "overlays" / "gke"); }
std::vector<json> simulated_overlay() { return build(kManifests / "overlays" / "simulated"); }

// Every kustomization `kubectl apply -k` accepts (Components only come inside one).
std::vector<fs::path> kustomizations() {
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::recursive_directory_iterator(kManifests)) {
    if (entry.path().filename() != "kustomization.yaml") continue;
    const fs::path dir = entry.path().parent_path();
    if (kustomization_of(dir).value("kind", "Kustomization") == "Kustomization") dirs.push_back(dir);
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

// What each kustomization installs, and the combined installs the READMEs describe.
std::vector<std::pair<std::string, std::vector<json>>> every_install() {
  std::vector<std::pair<std::string, std::vector<json>>> installs;
  for (const auto& dir : kustomizations()) installs.emplace_back(fs::relative(dir, kManifests).string(), build(dir));
  installs.emplace_back("extender + provisioner/gke", with_gke_provisioner());
  installs.emplace_back("manifests + provisioner/simulated", with_simulated_provisioner());
  installs.emplace_back("extender + cert-manager + cert-manager/webhook", with_cert_manager());
  return installs;
}

TEST(Manifests, KustomizationListsFilesThatExist) {
  for (const auto& entry : fs::recursive_directory_iterator(kManifests)) {
    if (entry.path().filename() != "kustomization.yaml") continue;
    const fs::path dir = entry.path().parent_path();
    const json kustomization = kustomization_of(dir);
    for (const char* key : {"resources", "components"}) {
      for (const auto& item : kustomization.value(key, json::array())) {
        EXPECT_TRUE(fs::exists(dir / item.get<std::string>())) << dir << ": " << item;
      }
    }
  }
  EXPECT_NO_THROW(build(kManifests));
  EXPECT_NO_THROW(build(kExtender / "cert-manager"));
}

TEST(Manifests, EveryInstallHasUniqueNamespacedObjects) {
  for (const auto& [install_name, objects] : every_install()) {
    SCOPED_TRACE(install_name);
    std::set<std::string> ids;
    for (const auto& object : objects) {
      const std::string id =
          object.value("kind", "") + " " + ns_of(object) + "/" + object["metadata"].value("name", "");
      EXPECT_TRUE(ids.insert(id).second) << "twice: " << id;
      EXPECT_EQ(namespaced(object), !ns_of(object).empty()) << id;
    }
  }
  // Both provisioners at once would add the same RBAC twice, which kustomize refuses.
}

// The built-in roles kube-scheduler's own bindings name.
const std::set<std::string> kBuiltinClusterRoles = {"system:kube-scheduler", "system:volume-scheduler"};
const std::set<std::string> kBuiltinRoles = {"kube-system/extension-apiserver-authentication-reader"};

TEST(Manifests, EveryBindingNamesARoleAndServiceAccountsThatExist) {
  for (const auto& [install_name, objects] : every_install()) {
    SCOPED_TRACE(install_name);
    for (const auto& binding : objects) {
      const std::string kind = binding.value("kind", "");
      if (kind != "RoleBinding" && kind != "ClusterRoleBinding") continue;
      const std::string name = ns_of(binding) + "/" + binding["metadata"]["name"].get<std::string>();
      const json& ref = binding["roleRef"];
      const std::string role = ref["name"];
      if (ref["kind"] == "ClusterRole") {
        EXPECT_TRUE(lookup(objects, "ClusterRole", role) || kBuiltinClusterRoles.contains(role)) << name << " " << role;
      } else {
        EXPECT_EQ(kind, "RoleBinding") << name;  // a ClusterRoleBinding cannot name a Role
        EXPECT_TRUE(lookup(objects, "Role", role, ns_of(binding)) ||
                    kBuiltinRoles.contains(ns_of(binding) + "/" + role))
            << name << " names Role " << role << ", which is not in its namespace";
      }
      for (const auto& subject : binding["subjects"]) {
        if (subject["kind"] != "ServiceAccount") continue;
        EXPECT_TRUE(lookup(objects, "ServiceAccount", subject.value("name", ""), subject.value("namespace", "")))
            << name << " " << subject;
      }
    }
  }
}

TEST(Manifests, SchedulerCallsEveryVerbOfTheExtenderForTpuPods) {
  const auto objects = default_install();
  const json config = scheduler_config(objects);
  EXPECT_EQ(config["apiVersion"], "kubescheduler.config.k8s.io/v1");
  EXPECT_EQ(config["percentageOfNodesToScore"], 100);
  EXPECT_EQ(config["profiles"][0]["schedulerName"], "tpu-scheduler");
  const auto& extender = config["extenders"].at(0);
  EXPECT_EQ(extender["urlPrefix"], "https://tpu-extender.tpu-system.svc:8888");
  for (const auto& [key, verb] : {std::pair{"filterVerb", "filter"}, std::pair{"prioritizeVerb", "prioritize"},
                                  std::pair{"bindVerb", "bind"}, std::pair{"preemptVerb", "preempt"}}) {
    EXPECT_EQ(extender[key], verb);
  }
  EXPECT_EQ(extender["nodeCacheCapable"], true);
  EXPECT_GT(extender["weight"], 0);
  EXPECT_EQ(extender["managedResources"][0]["name"], std::string(names::kTpuResource));
  // kube-scheduler decodes its configuration strictly: a misspelt key (enableHttps) stops it.
  const std::set<std::string> known = {"urlPrefix",   "filterVerb", "preemptVerb",      "prioritizeVerb",
                                       "weight",      "bindVerb",   "enableHTTPS",      "tlsConfig",
                                       "httpTimeout", "ignorable",  "nodeCacheCapable", "managedResources"};
  for (const auto& [key, value] : extender.items()) EXPECT_TRUE(known.contains(key)) << key;
}

TEST(Manifests, ExtenderMayOnlyReadNodesAndPodsAnnotatePodsBindAndRecordEvents) {
  const auto objects = default_install();
  auto verbs = verbs_by_resource(find(objects, "ClusterRole", "tpu-extender", ""));
  EXPECT_EQ(verbs["nodes"], (std::vector<std::string>{"list", "watch"}));
  EXPECT_EQ(verbs["pods"], (std::vector<std::string>{"get", "list", "watch", "patch"}));
  EXPECT_EQ(verbs["pods/binding"], (std::vector<std::string>{"create"}));
  EXPECT_EQ(verbs["events"], (std::vector<std::string>{"create"}));  // GroupIncomplete, SliceLost
  EXPECT_EQ(verbs.size(), 4u);
  // Nothing else is granted to tpu-extender by default; the webhook's two roles are tested with the webhook.
  const std::set<std::string> roles = {"tpu-extender", "tpu-extender-reservations", "tpu-extender-webhook-ca",
                                       "tpu-extender-webhook-ca-bundle"};
  for (const auto& object : objects) {
    if (object["kind"] != "RoleBinding" && object["kind"] != "ClusterRoleBinding") continue;
    bool to_extender = false;
    for (const auto& subject : object["subjects"]) to_extender |= subject.value("name", "") == "tpu-extender";
    if (!to_extender) continue;
    EXPECT_TRUE(roles.contains(object["roleRef"]["name"])) << object["roleRef"]["name"];
  }
}

// A rule of `role` for `resource`: its verbs, split into those limited to names and those not.
struct Grant {
  std::set<std::string> named;      // verbs with resourceNames == {name}
  std::set<std::string> unlimited;  // verbs without resourceNames
  bool other_names = false;
};

Grant grant(const json& role, const std::string& resource, const std::string& name) {
  Grant g;
  for (const auto& rule : role["rules"]) {
    for (const auto& r : rule["resources"]) {
      if (r != resource) continue;
      const auto verbs = rule["verbs"].get<std::vector<std::string>>();
      if (!rule.contains("resourceNames")) {
        g.unlimited.insert(verbs.begin(), verbs.end());
      } else if (rule["resourceNames"] == json::array({name})) {
        g.named.insert(verbs.begin(), verbs.end());
      } else {
        g.other_names = true;
      }
    }
  }
  return g;
}

const json& role_bound_to(const std::vector<json>& objects, const std::string& service_account, const std::string& role,
                          const std::string& ns) {
  for (const auto& binding : objects) {
    if (binding["kind"] != "RoleBinding" || ns_of(binding) != ns || binding["roleRef"]["name"] != role) continue;
    for (const auto& subject : binding["subjects"]) {
      if (subject["kind"] == "ServiceAccount" && subject["name"] == service_account)
        return find(objects, "Role", role, ns);
    }
  }
  throw std::runtime_error("no RoleBinding of Role " + ns + "/" + role + " to " + service_account);
}

TEST(Manifests, ReplicasShareReservationsThroughOneNamedConfigMapInTheirNamespace) {
  const auto objects = default_install();
  const std::string ns = ns_of(find(objects, "Deployment", "tpu-extender", "tpu-system"));
  const json& role = role_bound_to(objects, "tpu-extender", "tpu-extender-reservations", ns);
  const Grant g = grant(role, "configmaps", std::string(kReservationsConfigMap));
  EXPECT_EQ(g.named, (std::set<std::string>{"get", "list", "update", "watch"}));
  EXPECT_EQ(g.unlimited, (std::set<std::string>{"create"}));  // create cannot be limited by name
  EXPECT_FALSE(g.other_names);
  EXPECT_EQ(verbs_by_resource(role).size(), 1u);
}

TEST(Manifests, TheProvisionerAndItsRulesComeOnlyWithItsComponent) {
  const std::string lease = provisioning::LeaseSettings{}.name;
  {
    const auto objects = default_install();
    const auto args =
        command_line(container(find(objects, "Deployment", "tpu-extender", "tpu-system"), "tpu-extender"));
    EXPECT_FALSE(has_flag(args, "--provisioner"));
    EXPECT_FALSE(lookup(objects, "ClusterRole", "tpu-extender-provisioner"));
    EXPECT_FALSE(lookup(objects, "Role", "tpu-extender-provisioner-lease", "tpu-system"));
    EXPECT_FALSE(lookup(objects, "ClusterRole", "tpu-extender-simulated-nodes"));
  }
  for (const auto& [objects, provider] :
       {std::pair{with_gke_provisioner(), "gke"}, std::pair{with_simulated_provisioner(), "simulated"}}) {
    const auto& deployment = find(objects, "Deployment", "tpu-extender", "tpu-system");
    const auto args = command_line(container(deployment, "tpu-extender"));
    EXPECT_EQ(flag(args, "--provisioner"), provider);
    // The Lease lives in the pod's own namespace (POD_NAMESPACE), where the Role names it.
    EXPECT_FALSE(has_flag(args, "--lease-namespace"));
    const json& lease_role =
        role_bound_to(objects, "tpu-extender", "tpu-extender-provisioner-lease", ns_of(deployment));
    const Grant g = grant(lease_role, "leases", lease);
    EXPECT_EQ(g.named, (std::set<std::string>{"get", "update"})) << provider;
    EXPECT_EQ(g.unlimited, (std::set<std::string>{"create"})) << provider;
    EXPECT_FALSE(g.other_names);
    auto owners = verbs_by_resource(find(objects, "ClusterRole", "tpu-extender-provisioner", ""));
    EXPECT_EQ(owners["jobsets"], (std::vector<std::string>{"list"}));
    EXPECT_EQ(owners["jobs"], (std::vector<std::string>{"list"}));
    EXPECT_EQ(owners.size(), 2u);
    const json* nodes = lookup(objects, "ClusterRole", "tpu-extender-simulated-nodes");
    EXPECT_EQ(nodes != nullptr, std::string(provider) == "simulated");
    if (nodes) {
      auto verbs = verbs_by_resource(*nodes);
      EXPECT_EQ(verbs["nodes"], (std::vector<std::string>{"create", "delete"}));
      EXPECT_EQ(verbs["nodes/status"], (std::vector<std::string>{"patch"}));
      EXPECT_EQ(verbs.size(), 2u);
    }
  }
}

TEST(Manifests, ExtenderRunsTwoReplicasThatNeverAllGoAtOnce) {
  const auto objects = default_install();
  const auto& deployment = find(objects, "Deployment", "tpu-extender", "tpu-system");
  const auto& spec = deployment["spec"];
  EXPECT_EQ(spec["replicas"], 2);
  EXPECT_EQ(spec["strategy"]["type"], "RollingUpdate");
  EXPECT_EQ(spec["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
  EXPECT_GE(spec["strategy"]["rollingUpdate"].value("maxSurge", 0), 1);
  const json& labels = pod_labels(deployment);
  EXPECT_TRUE(labels_match(spec["selector"]["matchLabels"], labels));

  int budgets = 0;
  for (const auto& pdb : objects) {
    if (pdb["kind"] != "PodDisruptionBudget" || !labels_match(pdb["spec"]["selector"]["matchLabels"], labels)) continue;
    ++budgets;
    EXPECT_EQ(pdb["apiVersion"], "policy/v1");
    EXPECT_EQ(ns_of(pdb), ns_of(deployment));
    EXPECT_EQ(pdb["spec"]["minAvailable"], 1);
  }
  EXPECT_EQ(budgets, 1);

  const auto& terms =
      spec["template"]["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"];
  ASSERT_EQ(terms.size(), 1u);
  EXPECT_EQ(terms[0]["podAffinityTerm"]["topologyKey"], "kubernetes.io/hostname");
  EXPECT_TRUE(labels_match(terms[0]["podAffinityTerm"]["labelSelector"]["matchLabels"], labels));

  // Probed where the kubelet gets an answer without a client certificate: the metrics address.
  const auto& c = container(deployment, "tpu-extender");
  const auto args = command_line(c);
  EXPECT_EQ(flag(args, "--metrics-addr"), "0.0.0.0:8080");
  const int metrics = container_port(c, "metrics");
  EXPECT_EQ(metrics, port_of(flag(args, "--metrics-addr")));
  for (const auto& [probe, path] :
       {std::pair{"readinessProbe", "/readyz/verbs"}, std::pair{"livenessProbe", "/healthz"}}) {
    EXPECT_EQ(c[probe]["httpGet"]["path"], path);
    EXPECT_TRUE(c[probe]["httpGet"]["port"] == "metrics" || c[probe]["httpGet"]["port"] == metrics) << probe;
    EXPECT_NE(c[probe]["httpGet"].value("scheme", "HTTP"), "HTTPS") << probe;
  }
}

TEST(Manifests, ExtenderServesHttpsWithTheCertificatesOfItsSecretAndChecksClients) {
  const auto objects = default_install();
  const auto& deployment = find(objects, "Deployment", "tpu-extender", "tpu-system");
  const auto& c = container(deployment, "tpu-extender");
  const auto args = command_line(c);
  EXPECT_EQ(args.at(0), "serve");
  EXPECT_EQ(flag(args, "--listen"), "0.0.0.0:8888");
  EXPECT_EQ(container_port(c, "extender"), port_of(flag(args, "--listen")));
  const std::string secret = "secret " + std::string(kServerSecret) + "/";
  EXPECT_EQ(mounted_from(deployment, c, flag(args, "--tls-cert-file")), secret + "tls.crt");
  EXPECT_EQ(mounted_from(deployment, c, flag(args, "--tls-private-key-file")), secret + "tls.key");
  EXPECT_EQ(mounted_from(deployment, c, flag(args, "--client-ca-file")), secret + "ca.crt");
  EXPECT_FALSE(has_flag(args, "--debug-endpoints"));
  // bind binds only pods of the schedulers that call it.
  std::set<std::string> profiles;
  const json config = scheduler_config(objects);
  for (const auto& profile : config["profiles"]) profiles.insert(profile["schedulerName"]);
  const auto names = flag_values(args, "--scheduler-name");
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), profiles);
  // The reservations ConfigMap and the Lease are found in the pod's namespace.
  std::map<std::string, std::string> env;
  for (const auto& var : c.value("env", json::array())) {
    if (var.contains("valueFrom")) env[var["name"]] = var["valueFrom"]["fieldRef"]["fieldPath"];
  }
  EXPECT_EQ(env["POD_NAMESPACE"], "metadata.namespace");
  EXPECT_EQ(env["POD_NAME"], "metadata.name");
}

TEST(Manifests, SchedulerCallsTheServiceOverHttpsWithAClientCertificate) {
  const auto objects = default_install();
  const auto& extender_deployment = find(objects, "Deployment", "tpu-extender", "tpu-system");
  const json config = scheduler_config(objects);
  const json& extender = config["extenders"].at(0);
  EXPECT_EQ(extender["enableHTTPS"], true);

  // urlPrefix: https://SERVICE.NAMESPACE.svc:PORT of the Service in front of the extender's verbs.
  const auto& service = find(objects, "Service", "tpu-extender", "tpu-system");
  EXPECT_TRUE(labels_match(service["spec"]["selector"], pod_labels(extender_deployment)));
  int service_port = -1;
  for (const auto& port : service["spec"]["ports"]) {
    if (port["targetPort"] == "extender") service_port = port["port"];
  }
  const std::string host = "tpu-extender.tpu-system.svc";
  EXPECT_EQ(extender["urlPrefix"], "https://" + host + ":" + std::to_string(service_port));

  const json& tls = extender["tlsConfig"];
  const std::set<std::string> known = {"insecure", "serverName", "certFile", "keyFile",
                                       "caFile",   "certData",   "keyData",  "caData"};
  for (const auto& [key, value] : tls.items()) EXPECT_TRUE(known.contains(key)) << key;
  EXPECT_FALSE(tls.value("insecure", false));
  EXPECT_EQ(tls.value("serverName", host), host);

  const auto& scheduler = find(objects, "Deployment", "tpu-scheduler", "tpu-system");
  const auto& c = container(scheduler, "kube-scheduler");
  const std::string secret = "secret " + std::string(kClientSecret) + "/";
  EXPECT_EQ(mounted_from(scheduler, c, tls.value("certFile", "")), secret + "tls.crt");
  EXPECT_EQ(mounted_from(scheduler, c, tls.value("keyFile", "")), secret + "tls.key");
  // Without a CA kube-scheduler would not check the extender's certificate at all.
  EXPECT_EQ(mounted_from(scheduler, c, tls.value("caFile", "")), secret + "ca.crt");
  EXPECT_EQ(mounted_from(scheduler, c, flag(command_line(c), "--config")),
            "configMap tpu-scheduler-config/config.yaml");
}

// Does this ingress rule let traffic reach `port` (number or name)?
bool covers(const json& rule, int port, const std::string& name) {
  if (!rule.contains("ports")) return true;
  for (const auto& p : rule["ports"]) {
    if (!p.contains("port") || p["port"] == port || p["port"] == name) return true;
  }
  return false;
}

TEST(Manifests, OnlyTheSchedulerReachesTheVerbs) {
  const auto objects = default_install();
  const auto& extender = find(objects, "Deployment", "tpu-extender", "tpu-system");
  const auto& scheduler = find(objects, "Deployment", "tpu-scheduler", "tpu-system");
  const int verbs = container_port(container(extender, "tpu-extender"), "extender");
  const int metrics = container_port(container(extender, "tpu-extender"), "metrics");
  int policies = 0;
  for (const auto& policy : objects) {
    if (policy["kind"] != "NetworkPolicy" || ns_of(policy) != ns_of(extender)) continue;
    if (!labels_match(policy["spec"]["podSelector"]["matchLabels"], pod_labels(extender))) continue;
    ++policies;
    const auto types = policy["spec"]["policyTypes"].get<std::vector<std::string>>();
    EXPECT_NE(std::find(types.begin(), types.end(), "Ingress"), types.end());
    int to_verbs = 0;
    int to_metrics = 0;
    for (const auto& rule : policy["spec"].value("ingress", json::array())) {
      if (covers(rule, metrics, "metrics")) ++to_metrics;
      if (!covers(rule, verbs, "extender")) continue;
      ++to_verbs;
      ASSERT_TRUE(rule.contains("from")) << "the verbs are open to everyone";
      for (const auto& peer : rule["from"]) {
        // A podSelector alone selects pods of the policy's own namespace: the scheduler's.
        EXPECT_FALSE(peer.contains("namespaceSelector") || peer.contains("ipBlock")) << peer;
        EXPECT_TRUE(labels_match(peer.value("podSelector", json::object()).value("matchLabels", json::object()),
                                 pod_labels(scheduler)))
            << peer;
        EXPECT_EQ(ns_of(scheduler), ns_of(policy));
      }
    }
    EXPECT_EQ(to_verbs, 1);
    EXPECT_GE(to_metrics, 1);  // Prometheus and the kubelet's probes
  }
  EXPECT_EQ(policies, 1);
}

TEST(Manifests, CertManagerMakesBothSecretsFromOneCaWithTheServiceNames) {
  const auto objects = with_cert_manager();
  const json config = scheduler_config(objects);
  const std::string url = config["extenders"][0]["urlPrefix"];
  const std::string host = url.substr(8, url.rfind(':') - 8);  // after https://
  const auto& server = find(objects, "Certificate", std::string(kServerSecret), "tpu-system");
  const auto& client = find(objects, "Certificate", std::string(kClientSecret), "tpu-system");
  EXPECT_EQ(server["spec"]["secretName"], std::string(kServerSecret));
  EXPECT_EQ(client["spec"]["secretName"], std::string(kClientSecret));
  const auto names = server["spec"]["dnsNames"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(names.begin(), names.end(), host), names.end());
  const auto server_usages = server["spec"]["usages"].get<std::vector<std::string>>();
  const auto client_usages = client["spec"]["usages"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(server_usages.begin(), server_usages.end(), "server auth"), server_usages.end());
  EXPECT_NE(std::find(client_usages.begin(), client_usages.end(), "client auth"), client_usages.end());
  // One CA issuer signs both, so each Secret's ca.crt verifies the other side.
  EXPECT_EQ(server["spec"]["issuerRef"], client["spec"]["issuerRef"]);
  const auto& issuer = find(objects, "Issuer", server["spec"]["issuerRef"]["name"].get<std::string>(), "tpu-system");
  EXPECT_TRUE(issuer["spec"].contains("ca"));
}

// A stock JobSet as GKE's documentation writes it: nothing of tpustack in it (the admission webhook adds
// schedulerName, the toleration and the worker environment), each pod a whole host of its slice.
void expect_stock_tpu_jobset(const std::string& file, const std::string& name, int slices) {
  SCOPED_TRACE(file);
  EXPECT_EQ(read_text(kExtender / file).find("tpustack"), std::string::npos);
  auto objects = load(file);
  const auto& jobset = find(objects, "JobSet", name);
  const auto& replicated = jobset["spec"]["replicatedJobs"];
  ASSERT_EQ(replicated.size(), 1u);
  EXPECT_EQ(replicated[0]["replicas"], slices);
  const auto& job = replicated[0]["template"]["spec"];
  EXPECT_EQ(job["parallelism"], 4);  // a v6e 4x4 slice: 4 hosts of 4 chips
  EXPECT_EQ(job["completions"], 4);
  const auto& pod = job["template"]["spec"];
  EXPECT_FALSE(pod.contains("schedulerName"));
  EXPECT_EQ(pod["nodeSelector"][std::string(names::kTopologyLabel)], "4x4");
  for (const auto& c : pod["containers"]) {
    EXPECT_FALSE(c.contains("env")) << "the webhook sets the worker environment";
    EXPECT_EQ(c["resources"]["limits"][std::string(names::kTpuResource)], 4);
    EXPECT_NE(image_name(c["image"]), c["image"]) << "no version tag";
  }
}

TEST(Manifests, ExampleJobSetIsAStockFourHostSlice) {
  expect_stock_tpu_jobset("examples/jobset-v6e-4x4.yaml", "train-v6e", 1);
}

TEST(Manifests, ExampleMultisliceJobSetIsAStockTwoSliceJob) {
  expect_stock_tpu_jobset("examples/jobset-multislice-v6e-4x4.yaml", "train-v6e-multislice", 2);
}

// Without the webhook (a StatefulSet is no JobSet or Indexed Job), the pods name the scheduler and map the
// placement annotations written at bind to TPU_WORKER_ID and TPU_WORKER_HOSTNAMES through the downward API.
void expect_worker_env(const nlohmann::json& pod_spec) {
  for (const auto& container : pod_spec["containers"]) {
    std::map<std::string, std::string> env;
    for (const auto& var : container.value("env", nlohmann::json::array())) {
      if (var.contains("valueFrom")) env[var["name"]] = var["valueFrom"]["fieldRef"]["fieldPath"];
    }
    EXPECT_EQ(env["TPU_WORKER_ID"], fieldpath_for(names::kWorkerIdAnnotation));
    EXPECT_EQ(env["TPU_WORKER_HOSTNAMES"], fieldpath_for(names::kWorkerHostnamesAnnotation));
    EXPECT_EQ(container["resources"]["requests"][std::string(names::kTpuResource)], 4);
  }
  EXPECT_EQ(pod_spec["schedulerName"], "tpu-scheduler");
  EXPECT_EQ(pod_spec["nodeSelector"][std::string(names::kTopologyLabel)], "4x4");
}

TEST(Manifests, ExampleStatefulSetPodsFormOneGroupIndexedByPodIndex) {
  auto objects = load("examples/statefulset-v6e-4x4.yaml");
  const auto& sts = find(objects, "StatefulSet", "infer-v6e");
  expect_worker_env(sts["spec"]["template"]["spec"]);
  StringMap labels;
  for (const auto& [key, value] : sts["spec"]["template"]["metadata"]["labels"].items()) labels[key] = value;
  labels[std::string(names::kStatefulSetPodIndex)] = "2";  // added by the StatefulSet controller
  auto member = group_member("default", labels, {});
  ASSERT_TRUE(member);
  EXPECT_EQ(member->problem, std::nullopt);
  EXPECT_EQ(member->declared_size, sts["spec"]["replicas"]);
  EXPECT_EQ(member->index, 2);
}

// ---- every kustomization: kinds, namespaces, references, images, security ----

// The kinds we ship, each with its API version: a typo here is an object the API server refuses.
const std::map<std::string, std::string> kApiVersions = {
    {"Namespace", "v1"},
    {"ServiceAccount", "v1"},
    {"ConfigMap", "v1"},
    {"Service", "v1"},
    {"Role", "rbac.authorization.k8s.io/v1"},
    {"RoleBinding", "rbac.authorization.k8s.io/v1"},
    {"ClusterRole", "rbac.authorization.k8s.io/v1"},
    {"ClusterRoleBinding", "rbac.authorization.k8s.io/v1"},
    {"Deployment", "apps/v1"},
    {"DaemonSet", "apps/v1"},
    {"StatefulSet", "apps/v1"},
    {"PodDisruptionBudget", "policy/v1"},
    {"NetworkPolicy", "networking.k8s.io/v1"},
    {"HorizontalPodAutoscaler", "autoscaling/v2"},
    {"MutatingWebhookConfiguration", "admissionregistration.k8s.io/v1"},
    {"Issuer", "cert-manager.io/v1"},
    {"Certificate", "cert-manager.io/v1"}};

// Namespaces an install may use without creating them: Kubernetes' own.
const std::set<std::string> kBuiltinNamespaces = {"kube-system", "default"};

// Secrets made outside the manifests: by cert-manager/ (or openssl, extender/README.md "Certificates").
const std::set<std::string> kExternalSecrets = {"tpu-extender-tls", "tpu-scheduler-client-tls",
                                                "tpu-extender-webhook-tls"};

// Containers that run as root, and why: every other one runs as a non-root user.
const std::set<std::string> kRootContainers = {
    "DaemonSet tpu-device-plugin/tpu-device-plugin",  // its socket goes into the kubelet's root-owned directory
    "StatefulSet inferd-tpu/inferd",                  // the TPU device nodes keep the host's root-only ownership
};

bool is_workload(const json& object) { return !pod_spec_paths(object).empty(); }

std::string id_of(const json& object) {
  return object.value("kind", "") + " " + ns_of(object) + "/" + object["metadata"].value("name", "");
}

// Whether `selector` picks pods of `workload`: its template's labels, and on a StatefulSet's pods the pod index the
// controller adds (Kubernetes 1.28+), which a selector may name to pick one pod.
bool selects_pods_of(json selector, const json& workload) {
  const std::string index_label(names::kStatefulSetPodIndex);
  if (selector.is_object() && selector.contains(index_label)) {
    if (workload.value("kind", "") != "StatefulSet") return false;
    const std::string index = selector[index_label];
    if (index.empty() || !std::all_of(index.begin(), index.end(), ::isdigit) ||
        std::stoi(index) >= workload["spec"].value("replicas", 1)) {
      return false;
    }
    selector.erase(index_label);
  }
  return labels_match(selector, pod_labels(workload));
}

bool selects_a_workload(const std::vector<json>& objects, const json& selector, const std::string& ns) {
  return std::any_of(objects.begin(), objects.end(),
                     [&](const json& w) { return is_workload(w) && ns_of(w) == ns && selects_pods_of(selector, w); });
}

// A multi-host slice as a StatefulSet (its pods read TPU_WORKER_HOSTNAMES from tpu-extender's placement): clients
// reach worker 0 alone, whose inferd spreads the work over the others by the headless Service's per-pod names and
// their gRPC ports. Returns the number of such StatefulSets.
int expect_clients_reach_worker_zero(const std::vector<json>& objects) {
  int slices = 0;
  for (const auto& sts : objects) {
    if (sts.value("kind", "") != "StatefulSet") continue;
    bool slice = false, grpc_port = false;
    for (const auto& c : sts["spec"]["template"]["spec"]["containers"]) {
      for (const auto& var : c.value("env", json::array())) slice |= var["name"] == "TPU_WORKER_HOSTNAMES";
      for (const auto& port : c.value("ports", json::array())) grpc_port |= port.value("containerPort", 0) == 50051;
    }
    if (!slice) continue;
    SCOPED_TRACE(id_of(sts));
    ++slices;
    EXPECT_TRUE(grpc_port) << "the leader calls its followers' gRPC port";
    bool headless = false;
    for (const auto& service : objects) {
      if (service.value("kind", "") != "Service" || ns_of(service) != ns_of(sts) ||
          !selects_pods_of(service["spec"]["selector"], sts)) {
        continue;
      }
      if (service["spec"].value("clusterIP", "") == "None") {
        headless = true;
        EXPECT_EQ(service["metadata"]["name"], sts["spec"]["serviceName"]);
        EXPECT_TRUE(service["spec"].value("publishNotReadyAddresses", false)) << "names resolve while workers start";
        const auto& ports = service["spec"]["ports"];
        EXPECT_TRUE(std::any_of(ports.begin(), ports.end(), [](const json& p) { return p["port"] == 50051; }))
            << id_of(service);
      } else {
        EXPECT_EQ(service["spec"]["selector"].value(std::string(names::kStatefulSetPodIndex), ""), "0")
            << id_of(service) << " sends clients to every worker, not to the leader";
      }
    }
    EXPECT_TRUE(headless) << "no headless Service names the workers";
  }
  return slices;
}

TEST(Manifests, ClientsOfAMultiHostSliceReachWorkerZeroAlone) {
  int slices = expect_clients_reach_worker_zero(load("examples/statefulset-v6e-4x4.yaml"));
  for (const auto& [install_name, objects] : every_install()) {
    SCOPED_TRACE(install_name);
    slices += expect_clients_reach_worker_zero(objects);
  }
  EXPECT_GE(slices, 2);  // the example and overlays/inferd-slice
}

TEST(Manifests, EveryObjectHasAKnownKindItsApiVersionAndANamespaceThatExists) {
  for (const auto& [install_name, objects] : every_install()) {
    SCOPED_TRACE(install_name);
    std::set<std::string> namespaces = kBuiltinNamespaces;
    bool has_workload = false;
    for (const auto& object : objects) {
      if (object["kind"] == "Namespace") namespaces.insert(object["metadata"]["name"].get<std::string>());
      has_workload |= is_workload(object);
    }
    for (const auto& object : objects) {
      const auto api = kApiVersions.find(object.value("kind", ""));
      ASSERT_NE(api, kApiVersions.end()) << "unknown kind: " << id_of(object);
      EXPECT_EQ(object["apiVersion"], api->second) << id_of(object);
      // A kustomization of certificates alone is applied beside the one that creates its namespace.
      if (namespaced(object) && has_workload) {
        EXPECT_TRUE(namespaces.contains(ns_of(object))) << id_of(object);
      }
    }
  }
}

// The Services a URL `https://NAME.NAMESPACE.svc...` in a ConfigMap, an argument or an environment value names.
std::vector<std::pair<std::string, std::string>> services_named_in(const json& value) {
  std::vector<std::pair<std::string, std::string>> found;
  if (value.is_string()) {
    static const std::regex host(R"(([a-z0-9-]+)\.([a-z0-9-]+)\.svc\b)");
    const std::string text = value;
    for (auto m = std::sregex_iterator(text.begin(), text.end(), host); m != std::sregex_iterator(); ++m) {
      found.emplace_back((*m)[1], (*m)[2]);
    }
  } else if (value.is_structured()) {
    for (const auto& item : value) {
      auto more = services_named_in(item);
      found.insert(found.end(), more.begin(), more.end());
    }
  }
  return found;
}

TEST(Manifests, EveryReferenceFindsItsObject) {
  for (const auto& [install_name, objects] : every_install()) {
    SCOPED_TRACE(install_name);
    for (const auto& object : objects) {
      const std::string kind = object.value("kind", "");
      const std::string ns = ns_of(object);
      const json& spec = object.value("spec", json::object());
      if (kind == "Service") {
        EXPECT_TRUE(selects_a_workload(objects, spec["selector"], ns)) << id_of(object) << " selects no pods";
      }
      if (kind == "PodDisruptionBudget" || kind == "NetworkPolicy") {
        const json& selector = kind == "NetworkPolicy" ? spec["podSelector"] : spec["selector"];
        EXPECT_TRUE(selects_a_workload(objects, selector["matchLabels"], ns)) << id_of(object) << " selects no pods";
      }
      if (kind == "HorizontalPodAutoscaler") {
        EXPECT_TRUE(lookup(objects, spec["scaleTargetRef"]["kind"], spec["scaleTargetRef"]["name"], ns))
            << id_of(object);
      }
      if (kind == "StatefulSet") {
        EXPECT_TRUE(lookup(objects, "Service", spec["serviceName"], ns)) << id_of(object);
      }
      if (kind == "Certificate") {
        EXPECT_TRUE(lookup(objects, spec["issuerRef"]["kind"], spec["issuerRef"]["name"], ns)) << id_of(object);
      }
      if (kind == "MutatingWebhookConfiguration") {
        for (const auto& webhook : object["webhooks"]) {
          const json& service = webhook["clientConfig"]["service"];
          EXPECT_TRUE(lookup(objects, "Service", service["name"], service["namespace"])) << id_of(object);
        }
      }
      if (kind == "ConfigMap") {
        for (const auto& [name, service_ns] : services_named_in(object.value("data", json::object()))) {
          EXPECT_TRUE(lookup(objects, "Service", name, service_ns))
              << id_of(object) << " names " << name << "." << service_ns;
        }
      }
      for (const auto& path : pod_spec_paths(object)) {
        const json& pod = object.at(path);
        EXPECT_TRUE(lookup(objects, "ServiceAccount", pod.value("serviceAccountName", "default"), ns) ||
                    !pod.contains("serviceAccountName"))
            << id_of(object);
        for (const auto& volume : pod.value("volumes", json::array())) {
          if (volume.contains("configMap")) {
            EXPECT_TRUE(lookup(objects, "ConfigMap", volume["configMap"]["name"], ns));
          }
          if (volume.contains("secret")) {
            const std::string secret = volume["secret"]["secretName"];
            EXPECT_TRUE(kExternalSecrets.contains(secret) || lookup(objects, "Secret", secret, ns)) << secret;
          }
        }
      }
      for_each_container(object, [&](const json&, const json& c) {
        for (const auto& from : c.value("envFrom", json::array())) {
          if (from.contains("configMapRef")) {
            EXPECT_TRUE(lookup(objects, "ConfigMap", from["configMapRef"]["name"], ns));
          }
        }
        for (const auto& var : c.value("env", json::array())) {
          if (!var.contains("valueFrom") || !var["valueFrom"].contains("configMapKeyRef")) continue;
          const json& ref = var["valueFrom"]["configMapKeyRef"];
          const json* config_map = lookup(objects, "ConfigMap", ref["name"], ns);
          EXPECT_TRUE(config_map && (*config_map)["data"].contains(ref["key"].get<std::string>())) << ref;
        }
        for (const auto& [name, service_ns] : services_named_in(json::array(
                 {c.value("command", json::array()), c.value("args", json::array()), c.value("env", json::array())}))) {
          EXPECT_TRUE(lookup(objects, "Service", name, service_ns))
              << id_of(object) << " names " << name << "." << service_ns;
        }
      });
    }
  }
}

TEST(Manifests, EveryContainerHasAVersionedImageLockedDownSecurityAndLimits) {
  const std::regex version_tag(R"(^[^@]+:[A-Za-z0-9_][A-Za-z0-9_.-]*$|@sha256:[0-9a-f]{64}$)");
  for (const auto& [install_name, objects] : every_install()) {
    SCOPED_TRACE(install_name);
    for (const auto& object : objects) {
      for_each_container(object, [&](const json& pod, const json& c) {
        const std::string who = object["kind"].get<std::string>() + " " +
                                object["metadata"]["name"].get<std::string>() + "/" + c["name"].get<std::string>();
        const std::string image = c.value("image", "");
        EXPECT_TRUE(std::regex_search(image, version_tag) && !image.ends_with(":latest")) << who << ": " << image;
        EXPECT_TRUE(c.contains("imagePullPolicy")) << who;

        const json pod_context = pod.value("securityContext", json::object());
        const json context = c.value("securityContext", json::object());
        EXPECT_EQ(context.value("allowPrivilegeEscalation", true), false) << who;
        EXPECT_EQ(context.value("readOnlyRootFilesystem", false), true) << who;
        EXPECT_EQ(context.value("capabilities", json::object()).value("drop", json::array()), json::array({"ALL"}))
            << who;
        EXPECT_FALSE(context.value("capabilities", json::object()).contains("add")) << who;
        EXPECT_FALSE(context.value("privileged", false)) << who;
        const json seccomp = context.value("seccompProfile", pod_context.value("seccompProfile", json::object()));
        EXPECT_EQ(seccomp.value("type", ""), "RuntimeDefault") << who;
        const bool non_root = context.value("runAsNonRoot", pod_context.value("runAsNonRoot", false));
        EXPECT_EQ(non_root, !kRootContainers.contains(who)) << who;
        if (non_root) {
          EXPECT_NE(context.value("runAsUser", pod_context.value("runAsUser", 0)), 0) << who;
        }

        const json resources = c.value("resources", json::object());
        const json requests = resources.value("requests", json::object());
        EXPECT_TRUE(requests.contains("cpu") && requests.contains("memory")) << who << " requests " << requests;
        // No CPU limit: throttling a scheduler or a plugin costs more than sharing idle CPU.
        EXPECT_TRUE(resources.value("limits", json::object()).contains("memory")) << who;

        // A pod asking for chips tolerates the TPU nodes' taint (the webhook adds it only to webhook-handled pods).
        if (requests.contains(std::string(names::kTpuResource))) {
          bool tolerates = false;
          for (const auto& t : pod.value("tolerations", json::array())) {
            tolerates |= t.value("key", "") == names::kTpuResource || (!t.contains("key") && t["operator"] == "Exists");
          }
          EXPECT_TRUE(tolerates) << who;
        }
      });
    }
  }
}

// scripts/build-images.sh tags our images with the CMake project version unless told otherwise, so every install
// names that version.
TEST(Manifests, OurImagesCarryTheProjectVersion) {
  for (const auto& [install_name, objects] : every_install()) {
    for (const auto& object : objects) {
      for_each_container(object, [&](const json&, const json& c) {
        const std::string image = c["image"];
        if (image.starts_with("tpustack/")) {
          EXPECT_TRUE(image.ends_with(":" TPUSTACK_VERSION)) << install_name << ": " << image;
        }
      });
    }
  }
}

// ---- the device plugin ----

TEST(Manifests, DevicePluginRunsOnlyWhereGkesPluginIsOffToleratesEveryTaintAndIsProbed) {
  const auto objects = build(kManifests / "deviceplugin");
  const auto& daemonset = find(objects, "DaemonSet", "tpu-device-plugin", "kube-system");
  const json& pod = daemonset["spec"]["template"]["spec"];
  const json& terms =
      pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"];
  ASSERT_EQ(terms.size(), 1u);
  // The label the provisioner sets on its pools (gke_node_pool_json.cc), which also keeps GKE's plugin off.
  const json opt_in = {{"key", "gke-no-default-tpu-device-plugin"}, {"operator", "In"}, {"values", {"true"}}};
  const json tpu_node = {{"key", std::string(names::kAcceleratorLabel)}, {"operator", "Exists"}};
  EXPECT_EQ(terms[0]["matchExpressions"], json::array({tpu_node, opt_in}));
  EXPECT_EQ(pod["tolerations"], json::array({{{"operator", "Exists"}}}));
  const auto& c = container(daemonset, "tpu-device-plugin");
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"], "/healthz");
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["port"], "metrics");
}

// ---- the admission webhook ----

TEST(Manifests, WebhookReachesTheExtenderForPodsOfLabelledNamespacesAndNeverBlocksThem) {
  const auto objects = default_install();
  const auto& deployment = find(objects, "Deployment", "tpu-extender", "tpu-system");
  const auto& c = container(deployment, "tpu-extender");
  const auto args = command_line(c);
  EXPECT_EQ(flag(args, "--webhook-listen"), "0.0.0.0:8443");
  EXPECT_EQ(container_port(c, "webhook"), 8443);
  // Without cert-manager tpu-extender makes its own certificate.
  EXPECT_FALSE(has_flag(args, "--webhook-cert-file"));
  EXPECT_FALSE(has_flag(args, "--webhook-key-file"));

  const auto& service = find(objects, "Service", "tpu-extender-webhook", "tpu-system");
  EXPECT_TRUE(labels_match(service["spec"]["selector"], pod_labels(deployment)));
  ASSERT_EQ(service["spec"]["ports"].size(), 1u);
  EXPECT_EQ(service["spec"]["ports"][0]["port"], 443);
  EXPECT_EQ(service["spec"]["ports"][0]["targetPort"], "webhook");

  const auto& configuration = find(objects, "MutatingWebhookConfiguration", "tpu-extender-webhook", "");
  ASSERT_EQ(configuration["webhooks"].size(), 1u);
  const json& webhook = configuration["webhooks"][0];
  EXPECT_EQ(webhook["clientConfig"]["service"],
            (json{{"name", "tpu-extender-webhook"}, {"namespace", "tpu-system"}, {"path", "/mutate"}, {"port", 443}}));
  EXPECT_EQ(webhook["admissionReviewVersions"], json::array({"v1"}));
  ASSERT_EQ(webhook["rules"].size(), 1u);
  EXPECT_EQ(webhook["rules"][0]["operations"], json::array({"CREATE"}));
  EXPECT_EQ(webhook["rules"][0]["resources"], json::array({"pods"}));
  EXPECT_EQ(webhook["namespaceSelector"], (json{{"matchLabels", {{"tpustack.dev/inject", "enabled"}}}}));
  EXPECT_EQ(webhook["failurePolicy"], "Ignore");
  EXPECT_LE(webhook["timeoutSeconds"], 5);
  EXPECT_EQ(webhook["sideEffects"], "None");
  EXPECT_EQ(webhook["reinvocationPolicy"], "IfNeeded");

  // The API server is no pod: the port is open to any source.
  const auto& policy = find(objects, "NetworkPolicy", "tpu-extender", "tpu-system");
  bool admitted = false;
  for (const auto& rule : policy["spec"]["ingress"])
    admitted |= !rule.contains("from") && covers(rule, 8443, "webhook");
  EXPECT_TRUE(admitted);
}

TEST(Manifests, WebhookKeepsItsOwnCaInOneSecretAndPatchesOnlyItsConfiguration) {
  const auto objects = default_install();
  const Grant secrets = grant(role_bound_to(objects, "tpu-extender", "tpu-extender-webhook-ca", "tpu-system"),
                              "secrets", "tpu-extender-webhook-ca");
  EXPECT_EQ(secrets.named, (std::set<std::string>{"get", "update"}));
  EXPECT_EQ(secrets.unlimited, (std::set<std::string>{"create"}));  // create cannot be limited by name
  EXPECT_FALSE(secrets.other_names);
  const json& cluster_role = find(objects, "ClusterRole", "tpu-extender-webhook-ca-bundle", "");
  const Grant bundle = grant(cluster_role, "mutatingwebhookconfigurations", "tpu-extender-webhook");
  EXPECT_EQ(bundle.named, (std::set<std::string>{"get", "patch"}));
  EXPECT_TRUE(bundle.unlimited.empty());
  EXPECT_EQ(verbs_by_resource(cluster_role).size(), 1u);
  const auto& binding = find(objects, "ClusterRoleBinding", "tpu-extender-webhook-ca-bundle", "");
  EXPECT_EQ(binding["roleRef"]["name"], "tpu-extender-webhook-ca-bundle");
  EXPECT_EQ(binding["subjects"],
            json::array({{{"kind", "ServiceAccount"}, {"name", "tpu-extender"}, {"namespace", "tpu-system"}}}));
}

TEST(Manifests, CertManagerGivesTheWebhookItsCertificateAndTheCaBundle) {
  const auto objects = with_cert_manager();
  const auto& deployment = find(objects, "Deployment", "tpu-extender", "tpu-system");
  const auto& c = container(deployment, "tpu-extender");
  const auto args = command_line(c);
  EXPECT_EQ(mounted_from(deployment, c, flag(args, "--webhook-cert-file")), "secret tpu-extender-webhook-tls/tls.crt");
  EXPECT_EQ(mounted_from(deployment, c, flag(args, "--webhook-key-file")), "secret tpu-extender-webhook-tls/tls.key");
  const auto& configuration = find(objects, "MutatingWebhookConfiguration", "tpu-extender-webhook", "");
  EXPECT_EQ(configuration["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
            "tpu-system/tpu-extender-webhook-tls");
  const auto& certificate = find(objects, "Certificate", "tpu-extender-webhook-tls", "tpu-system");
  EXPECT_EQ(certificate["spec"]["secretName"], "tpu-extender-webhook-tls");
  const auto names = certificate["spec"]["dnsNames"].get<std::vector<std::string>>();
  // The name the API server calls: the Service of the configuration's clientConfig.
  EXPECT_NE(std::find(names.begin(), names.end(), "tpu-extender-webhook.tpu-system.svc"), names.end());
}

// ---- the overlays ----

std::map<std::string, std::string> config_map_env(const json& c) {
  std::map<std::string, std::string> env;
  for (const auto& var : c.value("env", json::array())) {
    if (!var.contains("valueFrom") || !var["valueFrom"].contains("configMapKeyRef")) continue;
    const json& ref = var["valueFrom"]["configMapKeyRef"];
    env[var["name"]] = ref["name"].get<std::string>() + "/" + ref["key"].get<std::string>();
  }
  return env;
}

TEST(Manifests, GkeOverlayProvisionsTheClusterOfItsConfigMapAsItsGoogleServiceAccount) {
  const auto objects = gke_overlay();
  const auto& deployment = find(objects, "Deployment", "tpu-extender", "tpu-system");
  const auto& c = container(deployment, "tpu-extender");
  const auto args = command_line(c);
  EXPECT_EQ(flag(args, "--provisioner"), "gke");
  const auto env = config_map_env(c);
  for (const auto& [option, variable, key] :
       {std::tuple{"--gke-project", "GKE_PROJECT", "project"}, std::tuple{"--gke-location", "GKE_LOCATION", "location"},
        std::tuple{"--gke-cluster", "GKE_CLUSTER", "cluster"}}) {
    EXPECT_EQ(flag(args, option), std::string("$(") + variable + ")");
    EXPECT_EQ(env.at(variable), std::string("tpu-extender-gke/") + key);
  }
  const auto& account = find(objects, "ServiceAccount", "tpu-extender", "tpu-system");
  EXPECT_TRUE(account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].get<std::string>().ends_with(
      ".iam.gserviceaccount.com"));
  EXPECT_TRUE(lookup(objects, "DaemonSet", "tpu-device-plugin", "kube-system"));
  EXPECT_TRUE(lookup(objects, "MutatingWebhookConfiguration", "tpu-extender-webhook"));
}

TEST(Manifests, SimulatedOverlayProvisionsNodeObjectsAndSimulatesTheirChips) {
  const auto objects = simulated_overlay();
  const auto args = command_line(container(find(objects, "Deployment", "tpu-extender", "tpu-system"), "tpu-extender"));
  EXPECT_EQ(flag(args, "--provisioner"), "simulated");
  const auto plugin =
      command_line(container(find(objects, "DaemonSet", "tpu-device-plugin", "kube-system"), "tpu-device-plugin"));
  EXPECT_EQ(flag(plugin, "--simulate"), "node");
}

// ---- the small kustomize against the real one ----

// `kubectl kustomize DIR`, or nothing where kubectl is not installed.
std::optional<std::vector<json>> kubectl_kustomize(const fs::path& dir) {
  const std::string command = "kubectl kustomize '" + dir.string() + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return std::nullopt;
  std::string text;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe.get())) text.append(buffer, n);
  if (pclose(pipe.release()) != 0) return std::nullopt;
  return parse_object_list(text, "kubectl kustomize " + dir.string()).value();
}

TEST(Manifests, TheSmallKustomizeRendersWhatKubectlRenders) {
  if (std::system("command -v kubectl >/dev/null 2>&1") != 0) GTEST_SKIP() << "kubectl is not installed";
  for (const auto& dir : kustomizations()) {
    SCOPED_TRACE(dir.string());
    const auto theirs = kubectl_kustomize(dir);
    ASSERT_TRUE(theirs) << "kubectl kustomize failed";
    auto sorted = [](std::vector<json> objects) {
      std::vector<std::string> dumps;
      for (const auto& object : objects) dumps.push_back(object.dump(1));
      std::sort(dumps.begin(), dumps.end());
      return dumps;
    };
    const auto ours = sorted(build(dir));
    const auto expected = sorted(*theirs);
    ASSERT_EQ(ours.size(), expected.size());
    for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i], expected[i]);
  }
}

}  // namespace
}  // namespace tpustack::extender
