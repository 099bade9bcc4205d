#pragma once

#include <string_view>

namespace web::http::experimental::listener {
class http_listener;
}

namespace tpustack::http {

// Opens a cpprestsdk listener; throws std::runtime_error "cannot serve <what> on <uri>: <reason>" so a
// busy port stops the program with a message naming what could not start.
void open_listener(web::http::experimental::listener::http_listener& listener, std::string_view what);

// Closes it, logging (never throwing) a failure: called from destructors and shutdown paths.
void close_listener(web::http::experimental::listener::http_listener& listener, std::string_view what);

}  // namespace tpustack::http
