#pragma once

#include <ctime>
#include <string>

#include "common/result/result.h"
#include "inferd/jinja/syntax_tree.h"
#include "inferd/jinja/value.h"

namespace tpustack::inferd::jinja {

// The text a parsed template gives for these variables, with jinja2's scoping: a for loop's body and a macro's
// have their own variables (a `set` there does not outlive them; namespace() is the way out), if blocks do not.
// `now` is what strftime_now formats. An Error names the line where rendering failed, except one the template
// raised itself with raise_exception, whose message is the template's words alone.
Result<std::string> render_template(const Body& body, Mapping variables, const std::tm& now);

}  // namespace tpustack::inferd::jinja
