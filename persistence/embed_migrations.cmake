# Generates a C++ source holding every migration's SQL, so the binary carries its schema.
# Inputs: MIGRATIONS_DIR, OUTPUT. Layout: manifest.txt + <dialect>/<rev>_<slug>.{up,down}.sql
file(STRINGS "${MIGRATIONS_DIR}/manifest.txt" lines)
set(body "")
foreach(line IN LISTS lines)
  string(STRIP "${line}" line)
  if(line STREQUAL "" OR line MATCHES "^#")
    continue()
  endif()
  if(NOT line MATCHES "^([0-9a-f]+)[ \t]+([A-Za-z0-9_]+)[ \t]+(.*)$")
    message(FATAL_ERROR "manifest.txt: malformed line: ${line}")
  endif()
  set(rev "${CMAKE_MATCH_1}")
  set(slug "${CMAKE_MATCH_2}")
  set(msg "${CMAKE_MATCH_3}")
  string(REPLACE "\"" "\\\"" msg "${msg}")
  set(entry "  {\"${rev}\", \"${slug}\", \"${msg}\"")
  foreach(dialect sqlite postgresql)
    foreach(direction up down)
      set(path "${MIGRATIONS_DIR}/${dialect}/${rev}_${slug}.${direction}.sql")
      if(NOT EXISTS "${path}")
        message(FATAL_ERROR "missing migration file ${path}")
      endif()
      file(READ "${path}" sql)
      set(entry_${dialect}_${direction} "R\"osprey_sql(${sql})osprey_sql\"")
    endforeach()
  endforeach()
  string(APPEND body "${entry},\n   {${entry_sqlite_up}, ${entry_postgresql_up}},\n   {${entry_sqlite_down}, ${entry_postgresql_down}}},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp" "// Generated from persistence/migrations by embed_migrations.cmake. Do not edit.
#include \"persistence/migrations_embedded.hpp\"
namespace osprey::persistence {
const std::vector<embedded_revision>& embedded_revisions() {
  static const std::vector<embedded_revision> revisions = {
${body}  };
  return revisions;
}
}  // namespace osprey::persistence
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
