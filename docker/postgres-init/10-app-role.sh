#!/bin/sh
# The application role: it owns no table, is not a superuser and cannot bypass row-level security.
# The owner role (POSTGRES_USER) creates the tables through `manage.py migrate` and grants this role access.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE qms_app LOGIN PASSWORD '${QMS_APP_DB_PASSWORD}' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
SQL
