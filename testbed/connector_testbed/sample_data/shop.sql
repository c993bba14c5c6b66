-- A small but realistic source for the demo: an online shop with sales, inventory and HR schemas,
-- primary and (composite, cross-schema) foreign keys, comments, views and a materialised view.
CREATE SCHEMA sales;
CREATE SCHEMA inventory;
CREATE SCHEMA hr;
COMMENT ON SCHEMA sales IS 'Orders, customers and invoices';

CREATE TABLE hr.employee (
  employee_id   integer PRIMARY KEY,
  full_name     varchar(200) NOT NULL,
  email         varchar(320) UNIQUE,
  hired_on      date NOT NULL DEFAULT current_date
);
COMMENT ON TABLE hr.employee IS 'People working for the shop';

CREATE TABLE sales.customer (
  customer_id   bigserial PRIMARY KEY,
  email         varchar(320) NOT NULL UNIQUE,
  display_name  text,
  country_code  char(2) NOT NULL DEFAULT 'FR',
  created_at    timestamptz NOT NULL DEFAULT now(),
  account_manager integer REFERENCES hr.employee (employee_id)
);
COMMENT ON TABLE sales.customer IS 'A person or company that buys from the shop';
COMMENT ON COLUMN sales.customer.email IS 'Login and contact address (personal data)';
COMMENT ON COLUMN sales.customer.country_code IS 'ISO 3166-1 alpha-2 code';

CREATE TABLE inventory.warehouse (
  warehouse_code char(4) PRIMARY KEY,
  city           varchar(100) NOT NULL
);

CREATE TABLE inventory.product (
  product_id    integer PRIMARY KEY,
  sku           varchar(40) NOT NULL UNIQUE,
  label         varchar(200) NOT NULL,
  unit_price    numeric(12,2) NOT NULL CHECK (unit_price >= 0),
  weight_kg     real,
  attributes    jsonb
);
COMMENT ON TABLE inventory.product IS 'Catalogue of sellable products';
COMMENT ON COLUMN inventory.product.unit_price IS 'Price excluding VAT, in euros';

CREATE TABLE inventory.stock_level (
  warehouse_code char(4) REFERENCES inventory.warehouse,
  product_id     integer REFERENCES inventory.product,
  quantity       integer NOT NULL DEFAULT 0,
  PRIMARY KEY (warehouse_code, product_id)
);

CREATE TABLE sales.order_header (
  order_id      bigserial PRIMARY KEY,
  customer_id   bigint NOT NULL REFERENCES sales.customer,
  ordered_at    timestamptz NOT NULL DEFAULT now(),
  status        varchar(20) NOT NULL DEFAULT 'new',
  shipped_from  char(4) REFERENCES inventory.warehouse
);
COMMENT ON TABLE sales.order_header IS 'One customer order';

CREATE TABLE sales.order_line (
  order_id      bigint NOT NULL REFERENCES sales.order_header ON DELETE CASCADE,
  line_no       smallint NOT NULL,
  product_id    integer NOT NULL REFERENCES inventory.product,
  quantity      integer NOT NULL CHECK (quantity > 0),
  unit_price    numeric(12,2) NOT NULL,
  PRIMARY KEY (order_id, line_no)
);

CREATE TABLE sales.invoice (
  invoice_id    uuid PRIMARY KEY,
  order_id      bigint NOT NULL,
  line_no       smallint NOT NULL,
  amount        numeric(14,2) NOT NULL,
  issued_on     date NOT NULL,
  FOREIGN KEY (order_id, line_no) REFERENCES sales.order_line (order_id, line_no)
);
COMMENT ON TABLE sales.invoice IS 'Invoice for one order line (composite foreign key)';

CREATE VIEW sales.customer_revenue AS
  SELECT c.customer_id, c.display_name, sum(l.quantity * l.unit_price) AS revenue
  FROM sales.customer c
  JOIN sales.order_header h USING (customer_id)
  JOIN sales.order_line l USING (order_id)
  GROUP BY c.customer_id, c.display_name;
COMMENT ON VIEW sales.customer_revenue IS 'Revenue per customer, all time';

CREATE MATERIALIZED VIEW inventory.stock_by_product AS
  SELECT product_id, sum(quantity) AS total_quantity FROM inventory.stock_level GROUP BY product_id;
