#!/bin/sh
# Run once by the influxdb image after its first setup: the hub queries InfluxQL on /query
# under the database name "hub" (HUB_INFLUX__DATABASE); map it to the telemetry bucket.
set -e
influx v1 dbrp create \
  --bucket-id "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
  --db hub --rp autogen --default \
  --org "${DOCKER_INFLUXDB_INIT_ORG}" --token "${DOCKER_INFLUXDB_INIT_ADMIN_TOKEN}"
