/* Customer records: one row per customer_id (Olist gives every order its own customer_id;
customer_unique_id identifies the person), the latest version in the lake. */
MODEL (
  name staging.stg_customers,
  kind VIEW,
  grain customer_id,
  audits (
    not_null(columns := (customer_id, customer_unique_id, customer_zip_code_prefix)),
    unique_values(columns := customer_id),
    row_count_matches_lake_keys(lake_table := 'customers', keys := customer_id)
  )
);

WITH source AS (
  SELECT
    bronze.customer_id::TEXT AS customer_id,
    bronze.customer_unique_id::TEXT AS customer_unique_id,
    bronze.customer_zip_code_prefix::TEXT AS customer_zip_code_prefix,
    bronze.customer_city::TEXT AS customer_city,
    bronze.customer_state::TEXT AS customer_state,
    bronze._dlt_load_id::TEXT AS _dlt_load_id
  FROM @read_lake('customers') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(customer_id)
)
SELECT
  customer_id::TEXT AS customer_id, /* The customer record of one order. */
  customer_unique_id::TEXT AS customer_unique_id, /* The person: the same across their orders. */
  @zip_code_prefix(customer_zip_code_prefix)::TEXT AS customer_zip_code_prefix, /* First 5 digits of the zip code, leading zeros kept. */
  @clean_city(customer_city)::TEXT AS customer_city, /* Lower case, no accents, no state suffix; NULL when unusable. */
  @clean_state(customer_state)::TEXT AS customer_state /* Two-letter state code, upper case. */
FROM latest
