#!/usr/bin/env bash
# Create the pipeline's own PostgreSQL login role and the database it owns.
#
# The role is what the pipeline connects as (staging and SQLMesh state): it owns its database and
# nothing else, and is not a superuser, cannot create databases and cannot create roles. Nobody
# else may connect to the database.
#
# docker compose mounts this folder as the postgres image's /docker-entrypoint-initdb.d, so the
# image runs this script once, as the superuser, when it initialises an empty data volume (a
# changed password later needs `ALTER ROLE`, or `docker compose down -v` to start over). The tests
# run it against a local cluster by setting PGHOST and PGPORT.
#
# Environment: PIPELINE_DB_USER, PIPELINE_DB_NAME, PIPELINE_DB_PASSWORD (required), and the
# image's POSTGRES_USER / POSTGRES_DB to connect as (default: postgres / postgres).
set -euo pipefail

: "${PIPELINE_DB_USER:?PIPELINE_DB_USER is not set: the pipeline role to create}"
: "${PIPELINE_DB_NAME:?PIPELINE_DB_NAME is not set: the pipeline database to create}"
: "${PIPELINE_DB_PASSWORD:?PIPELINE_DB_PASSWORD is not set: the password of the pipeline role}"

# psql reads the values itself (\getenv) and quotes them (:"name" as an identifier, :'name' as a
# literal): no value is spliced into SQL by the shell, and the password stays out of `ps`.
psql --no-psqlrc --set=ON_ERROR_STOP=1 \
    --username="${POSTGRES_USER:-postgres}" --dbname="${POSTGRES_DB:-postgres}" <<'SQL'
\getenv role_name PIPELINE_DB_USER
\getenv role_password PIPELINE_DB_PASSWORD
\getenv database_name PIPELINE_DB_NAME
CREATE ROLE :"role_name" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'role_password';
CREATE DATABASE :"database_name" OWNER :"role_name";
REVOKE ALL ON DATABASE :"database_name" FROM PUBLIC;
SQL

echo "created role ${PIPELINE_DB_USER} (not a superuser) owning database ${PIPELINE_DB_NAME}"
