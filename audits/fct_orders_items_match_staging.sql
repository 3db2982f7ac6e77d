AUDIT (
  name fct_orders_items_match_staging
);

/* fct_orders has every order of staging.stg_orders, and neither lost nor double-counted item
money: each order's items_value and freight_value equal the sums of its rows in
staging.stg_order_items. Checked for the orders the run rewrote in fct_orders, stg_orders or
stg_order_items (every order when the run wrote every row of fct_orders: a first build or a
rebuild), so an order whose items changed but whose row was not rewritten is caught too. Returns
the orders that differ or are missing on either side. */
WITH checked_orders AS (
  SELECT
    order_id
  FROM staging.stg_orders
  WHERE
    _batch = @current_batch()
    OR (
      SELECT
        MIN(_batch)
      FROM @this_model
    ) = @current_batch()
  UNION
  SELECT
    order_id
  FROM @this_model
  WHERE
    _batch = @current_batch()
  UNION
  SELECT
    order_id
  FROM staging.stg_order_items
  WHERE
    _batch = @current_batch()
), built AS (
  SELECT
    order_id,
    items_value,
    freight_value
  FROM @this_model
  WHERE
    order_id IN (
      SELECT
        order_id
      FROM checked_orders
    )
), staged AS (
  SELECT
    orders.order_id,
    COALESCE(SUM(items.price), 0) AS items_value,
    COALESCE(SUM(items.freight_value), 0) AS freight_value
  FROM staging.stg_orders AS orders
  LEFT JOIN (
    SELECT
      order_id,
      price,
      freight_value
    FROM staging.stg_order_items
    WHERE
      order_id IN (
        SELECT
          order_id
        FROM checked_orders
      )
  ) AS items
    ON orders.order_id = items.order_id
  WHERE
    orders.order_id IN (
      SELECT
        order_id
      FROM checked_orders
    )
  GROUP BY
    orders.order_id
)
SELECT
  COALESCE(built.order_id, staged.order_id) AS order_id,
  built.items_value AS fct_orders_items_value,
  staged.items_value AS staging_items_value,
  built.freight_value AS fct_orders_freight_value,
  staged.freight_value AS staging_freight_value
FROM built
FULL OUTER JOIN staged
  ON built.order_id = staged.order_id
WHERE
  built.order_id IS NULL
  OR staged.order_id IS NULL
  OR built.items_value <> staged.items_value
  OR built.freight_value <> staged.freight_value
