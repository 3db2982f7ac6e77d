/* Orders: one row per order, whatever its status, with its customer, lifecycle, items, payments,
review and revenue. The fact table the order marts are built from.

Orders missing a part are kept, with documented defaults: no items (155 orders in the sample,
nearly all canceled or unavailable) gives item_count 0, items_value and freight_value 0 and
revenue 0; no payment (one order) gives payment_count 0 and payment_value 0 with payment_type and
payment_installments NULL; no review gives review_score NULL; not delivered gives NULL delivery
columns.

A run rewrites the orders that changed: those with a new version of the order, its review or its
customer record, or whose items or payments were rolled up again (rows rewritten after this
table's watermark), whatever their age: a review answered 500 days after purchase arrives with
the load that carries it. INCREMENTAL_BY_PARTITION on order_id replaces exactly those rows; no
order ever leaves the lake, so none is left to delete.

depends_on lists staging.stg_order_items, which the query reads only through
int_order_items_rolled_up, so that the fct_orders_items_match_staging audit can check the
rolled-up item money against it.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name marts.fct_orders,
  kind @incremental_by_key(),
  partitioned_by @key_partition(order_id),
  allow_partials TRUE,
  grain order_id,
  depends_on (staging.lake_files, staging.stg_order_items),
  audits (
    not_null(
      columns := (
        order_id,
        customer_id,
        customer_unique_id,
        order_status,
        order_purchased_at,
        order_purchase_date,
        revenue
      ),
      condition := _batch = @current_batch()
    ),
    unique_values(columns := order_id, condition := _batch = @current_batch()),
    accepted_values(
      "column" := order_status,
      is_in := (
        'created',
        'approved',
        'invoiced',
        'processing',
        'shipped',
        'delivered',
        'canceled',
        'unavailable'
      ),
      condition := _batch = @current_batch()
    ),
    fct_orders_items_match_staging
  )
);

WITH touched_orders AS (
  SELECT
    order_id
  FROM staging.stg_orders
  WHERE
    _batch > @watermark()
  UNION
  SELECT
    order_id
  FROM intermediate.int_order_items_rolled_up
  WHERE
    _batch > @watermark()
  UNION
  SELECT
    order_id
  FROM intermediate.int_order_payments_rolled_up
  WHERE
    _batch > @watermark()
  UNION
  SELECT
    order_id
  FROM staging.stg_order_reviews
  WHERE
    _batch > @watermark()
  UNION
  SELECT
    order_id
  FROM staging.stg_orders
  WHERE
    customer_id IN (
      SELECT
        customer_id
      FROM staging.stg_customers
      WHERE
        _batch > @watermark()
    )
), orders AS (
  SELECT
    order_id,
    customer_id,
    order_status,
    order_purchased_at,
    order_approved_at,
    order_delivered_carrier_at,
    order_delivered_customer_at,
    order_estimated_delivery_date
  FROM staging.stg_orders
  WHERE
    @rebuilding() OR order_id IN (
      SELECT
        order_id
      FROM touched_orders
    )
), customers AS (
  SELECT
    customer_id,
    customer_unique_id,
    customer_state
  FROM staging.stg_customers
  WHERE
    @rebuilding() OR customer_id IN (
      SELECT
        customer_id
      FROM orders
    )
), order_items AS (
  SELECT
    order_id,
    item_count,
    items_value,
    freight_value
  FROM intermediate.int_order_items_rolled_up
  WHERE
    @rebuilding() OR order_id IN (
      SELECT
        order_id
      FROM orders
    )
), order_payments AS (
  SELECT
    order_id,
    payment_count,
    payment_value,
    payment_installments,
    payment_type
  FROM intermediate.int_order_payments_rolled_up
  WHERE
    @rebuilding() OR order_id IN (
      SELECT
        order_id
      FROM orders
    )
), order_reviews AS (
  SELECT
    order_id,
    review_score
  FROM staging.stg_order_reviews
  WHERE
    @rebuilding() OR order_id IN (
      SELECT
        order_id
      FROM orders
    )
), orders_with_parts AS (
  SELECT
    orders.*,
    COALESCE(customers.customer_unique_id, orders.customer_id) AS customer_unique_id, /* An order whose customer record is missing counts as a customer of its own. */
    customers.customer_state,
    COALESCE(order_items.item_count, 0) AS item_count,
    COALESCE(order_items.items_value, 0) AS items_value,
    COALESCE(order_items.freight_value, 0) AS freight_value,
    COALESCE(order_payments.payment_count, 0) AS payment_count,
    COALESCE(order_payments.payment_value, 0) AS payment_value,
    order_payments.payment_installments,
    order_payments.payment_type,
    order_reviews.review_score
  FROM orders
  LEFT JOIN customers
    ON orders.customer_id = customers.customer_id
  LEFT JOIN order_items
    ON orders.order_id = order_items.order_id
  LEFT JOIN order_payments
    ON orders.order_id = order_payments.order_id
  LEFT JOIN order_reviews
    ON orders.order_id = order_reviews.order_id
), orders_with_delivery AS (
  SELECT
    *,
    DATE_DIFF('DAY', order_purchased_at::DATE, order_delivered_customer_at::DATE) AS delivery_days,
    DATE_DIFF('DAY', order_purchased_at::DATE, order_estimated_delivery_date) AS estimated_delivery_days,
    order_delivered_customer_at::DATE > order_estimated_delivery_date AS is_delivered_late
  FROM orders_with_parts
)
SELECT
  order_id::TEXT AS order_id, /* The order. */
  customer_id::TEXT AS customer_id, /* The order's customer record (one per order). */
  customer_unique_id::TEXT AS customer_unique_id, /* The person who ordered (key of dim_customers); the customer_id when the customer record is missing. */
  customer_state::TEXT AS customer_state, /* State the order was delivered to (its customer record); NULL when that record is missing. */
  order_status::TEXT AS order_status, /* created, approved, invoiced, processing, shipped, delivered, unavailable or canceled. */
  order_purchased_at::TIMESTAMP AS order_purchased_at, /* When the customer placed the order (Brazilian local time). */
  order_purchased_at::DATE AS order_purchase_date, /* The day the order was placed. */
  order_approved_at::TIMESTAMP AS order_approved_at, /* When the payment was approved; NULL until then. */
  order_delivered_carrier_at::TIMESTAMP AS order_delivered_carrier_at, /* When the seller handed the order to the carrier; NULL until then. */
  order_delivered_customer_at::TIMESTAMP AS order_delivered_customer_at, /* When the customer received the order; NULL until then. */
  order_estimated_delivery_date::DATE AS order_estimated_delivery_date, /* The delivery date promised at purchase. */
  item_count::INT AS item_count, /* Items in the order; 0 when it has none. */
  items_value::DECIMAL(12, 2) AS items_value, /* Sum of the item prices in BRL; 0 when no items. */
  freight_value::DECIMAL(12, 2) AS freight_value, /* Sum of the items' freight in BRL; 0 when no items. */
  payment_count::INT AS payment_count, /* Payments the order was paid in; 0 when none was recorded. */
  payment_value::DECIMAL(12, 2) AS payment_value, /* Sum of the payments in BRL; 0 when none was recorded. */
  payment_installments::INT AS payment_installments, /* Most installments of any of its payments; NULL when no payment. */
  payment_type::TEXT AS payment_type, /* Type of the largest payment; NULL when no payment. */
  delivery_days::INT AS delivery_days, /* Calendar days from purchase to delivery; NULL when not delivered. */
  estimated_delivery_days::INT AS estimated_delivery_days, /* Calendar days from purchase to the promised date. */
  is_delivered_late::BOOLEAN AS is_delivered_late, /* Delivered after the promised date; NULL when not delivered. */
  review_score::INT AS review_score, /* The customer's review, 1 (worst) to 5 (best); NULL when not reviewed. */
  @is_revenue_order(order_status)::BOOLEAN AS is_revenue_order, /* FALSE for canceled and unavailable orders, which bring no revenue (macros/revenue.py). */
  @revenue(order_status, items_value, freight_value) AS revenue, /* Item price + freight in BRL; 0 for canceled and unavailable orders (macros/revenue.py). */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM orders_with_delivery
