#!/bin/sh
# Run once by the postgres image on an empty data directory
# (/docker-entrypoint-initdb.d). One database and one login role per service;
# each role owns its database and is the only non-superuser allowed to connect.
# No role but the superuser may connect to the maintenance databases either.
# The passwords are required (docker-compose.yml asks for them): none has a default.
set -eu

create_service_db() {
	role=$1 db=$2 password=$3
	psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
		-v role="$role" -v db="$db" -v password="$password" <<-'EOSQL'
		SELECT format('CREATE ROLE %I LOGIN', :'role')
		 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role')\gexec
		SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'role', :'password')\gexec
		SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
		 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db')\gexec
		SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'role')\gexec
		SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db')\gexec
		SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'db', :'role')\gexec
	EOSQL
}

create_service_db order_svc orderdb "${ORDER_DB_PASSWORD:?set ORDER_DB_PASSWORD}"
create_service_db stock_svc stockdb "${STOCK_DB_PASSWORD:?set STOCK_DB_PASSWORD}"
create_service_db payment_svc paymentdb "${PAYMENT_DB_PASSWORD:?set PAYMENT_DB_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres <<-'EOSQL'
	REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
	REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC;
EOSQL
