#pragma once
// Version strings the server reports.

namespace osprey {

/// Osprey's own release.
inline constexpr const char* osprey_version = "0.1.0";
/// The Prefect server release whose API Osprey speaks. `GET /api/admin/version` returns it: the Prefect 3
/// client refuses a server of another major version and warns when the server is older than itself.
inline constexpr const char* prefect_compatible_version = "3.9.1";
/// Prefect's REST API version (`GET /api/version`, the X-PREFECT-API-VERSION header).
inline constexpr const char* prefect_api_version = "0.8.4";

}  // namespace osprey
