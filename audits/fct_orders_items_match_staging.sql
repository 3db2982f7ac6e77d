AUDIT (
  name fct_orders_items_match_staging
);

/* fct_orders neither lost nor double-counted item money: for the orders purchased in the
interval just built, its items_value and freight_value add up to the prices and freight of those
orders' rows in staging.stg_order_items. Returns one row when they differ. */
WITH staged_orders AS (
  SELECT
    order_id
  FROM staging.stg_orders
  WHERE
    order_purchased_at BETWEEN @start_ts AND @end_ts
), staged_items AS (
  SELECT
    COALESCE(SUM(items.price), 0) AS items_value,
    COALESCE(SUM(items.freight_value), 0) AS freight_value
  FROM staging.stg_order_items AS items
  INNER JOIN staged_orders
    ON items.order_id = staged_orders.order_id
), built AS (
  SELECT
    COALESCE(SUM(items_value), 0) AS items_value,
    COALESCE(SUM(freight_value), 0) AS freight_value
  FROM @this_model
)
SELECT
  built.items_value AS fct_orders_items_value,
  staged_items.items_value AS staging_items_value,
  built.freight_value AS fct_orders_freight_value,
  staged_items.freight_value AS staging_freight_value
FROM built
CROSS JOIN staged_items
WHERE
  built.items_value <> staged_items.items_value
  OR built.freight_value <> staged_items.freight_value
