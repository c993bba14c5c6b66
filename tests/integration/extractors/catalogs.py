"""The test catalogs: the same awkward names and shapes on each technology, as SQL scripts.

Covered: quoted, mixed-case, unicode and spaced names, reserved words, maximum-length identifiers
(63 bytes in PostgreSQL, 64 characters in MariaDB), several schemas including an empty one, composite
and cross-schema foreign keys, unique constraints, views, comments, and (PostgreSQL) partitioned tables,
materialised views, a foreign table, arrays, domains, identity and generated columns.
"""

from __future__ import annotations

PG_LONG = "t" * 63  # PostgreSQL's identifier limit: 63 bytes
MARIADB_LONG = "c" * 64  # MariaDB's: 64 characters

POSTGRES_SQL = f"""
CREATE SCHEMA sales;
CREATE SCHEMA "Mixed Case";
CREATE SCHEMA empty_schema;
CREATE SCHEMA "ünïcødé";

CREATE DOMAIN sales.positive_amount AS numeric(12, 2) CHECK (VALUE >= 0);
CREATE TABLE sales.customers (
    id integer PRIMARY KEY,
    email varchar(200) NOT NULL UNIQUE,
    "Display Name" text,
    country char(2) DEFAULT 'FR',
    created_at timestamp(3) with time zone NOT NULL DEFAULT now(),
    tags text[],
    balance sales.positive_amount,
    profile jsonb,
    ref uuid
);
COMMENT ON TABLE sales.customers IS 'People who buy things';
COMMENT ON COLUMN sales.customers.email IS 'Login e-mail, unique';

CREATE TABLE sales.orders (
    customer_id integer NOT NULL REFERENCES sales.customers (id),
    order_no integer NOT NULL,
    placed_on date NOT NULL,
    total numeric(12, 2),
    weight double precision,
    note varchar,
    line_count integer GENERATED ALWAYS AS (order_no * 0) STORED,
    PRIMARY KEY (customer_id, order_no)
);

CREATE TABLE sales.order_lines (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL,
    order_no integer NOT NULL,
    "select" smallint,
    "from" interval,
    CONSTRAINT order_lines_order_fk FOREIGN KEY (customer_id, order_no)
        REFERENCES sales.orders (customer_id, order_no),
    CONSTRAINT order_lines_pair_uq UNIQUE (customer_id, order_no, "select")
);

CREATE TABLE "Mixed Case"."Order Archive" (
    "ID" integer PRIMARY KEY,
    "Customer" integer REFERENCES sales.customers (id),
    "Payload" bytea,
    "When" time(0)
);
COMMENT ON TABLE "Mixed Case"."Order Archive" IS 'Quoted, spaced, mixed case';

CREATE TABLE "ünïcødé"."tåble ñame" ("ćolumn ü" text PRIMARY KEY, "日本語" integer);
CREATE TABLE "ünïcødé"."{PG_LONG}" ("{PG_LONG}" integer);

CREATE TABLE sales.events (
    id bigint NOT NULL,
    happened_at date NOT NULL,
    kind text
) PARTITION BY RANGE (happened_at);
CREATE TABLE sales.events_2024 PARTITION OF sales.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE sales.events_2025 PARTITION OF sales.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');

CREATE VIEW sales.big_customers AS SELECT id, email FROM sales.customers WHERE id > 100;
COMMENT ON VIEW sales.big_customers IS 'Customers worth a look';
CREATE MATERIALIZED VIEW sales.order_totals AS
    SELECT customer_id, sum(total) AS total FROM sales.orders GROUP BY customer_id;

CREATE FOREIGN DATA WRAPPER olc_dummy;
CREATE SERVER olc_dummy_server FOREIGN DATA WRAPPER olc_dummy;
CREATE FOREIGN TABLE sales.remote_stock (sku text, quantity integer) SERVER olc_dummy_server;

CREATE TABLE public."user" ("order" integer, "group" text);
"""

MARIADB_SQL = f"""
CREATE TABLE sales.customers (
    id int PRIMARY KEY,
    email varchar(200) NOT NULL UNIQUE,
    `Display Name` text,
    country char(2) DEFAULT 'FR',
    created_at datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    balance decimal(12, 2) unsigned,
    active tinyint(1) NOT NULL DEFAULT 1,
    profile json,
    status enum('new', 'gold') NOT NULL DEFAULT 'new'
) COMMENT 'People who buy things';
ALTER TABLE sales.customers MODIFY email varchar(200) NOT NULL COMMENT 'Login e-mail, unique';

CREATE TABLE sales.orders (
    customer_id int NOT NULL,
    order_no int NOT NULL,
    placed_on date NOT NULL,
    total decimal(12, 2),
    weight double,
    PRIMARY KEY (customer_id, order_no),
    CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES sales.customers (id)
);

CREATE TABLE sales.order_lines (
    id bigint AUTO_INCREMENT PRIMARY KEY,
    customer_id int NOT NULL,
    order_no int NOT NULL,
    `select` smallint,
    CONSTRAINT order_lines_order_fk FOREIGN KEY (customer_id, order_no)
        REFERENCES sales.orders (customer_id, order_no),
    CONSTRAINT order_lines_pair_uq UNIQUE (customer_id, order_no, `select`)
);

CREATE TABLE `Mixed Case`.`Order Archive` (
    `ID` int PRIMARY KEY,
    `Customer` int,
    `Payload` blob,
    `When` time,
    CONSTRAINT archive_customer_fk FOREIGN KEY (`Customer`) REFERENCES sales.customers (id)
) COMMENT 'Quoted, spaced, mixed case';

CREATE TABLE `ünïcødé`.`tåble ñame` (`ćolumn ü` varchar(50) PRIMARY KEY, `日本語` int);
CREATE TABLE `ünïcødé`.`{MARIADB_LONG}` (`{MARIADB_LONG}` int);

CREATE VIEW sales.big_customers AS SELECT id, email FROM sales.customers WHERE id > 100;
"""
MARIADB_DATABASES = ["sales", "Mixed Case", "empty_schema", "ünïcødé"]

SQLITE_SQL = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email VARCHAR(200) NOT NULL UNIQUE,
    "Display Name" TEXT,
    country CHAR(2) DEFAULT 'FR',
    balance NUMERIC(12, 2)
);
CREATE TABLE orders (
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    order_no INTEGER NOT NULL,
    placed_on DATE NOT NULL,
    PRIMARY KEY (customer_id, order_no)
);
CREATE TABLE "order lines" (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    order_no INTEGER NOT NULL,
    "select" SMALLINT,
    "ünïcødé" TEXT,
    FOREIGN KEY (customer_id, order_no) REFERENCES orders (customer_id, order_no)
);
CREATE VIEW big_customers AS SELECT id, email FROM customers WHERE id > 100;
"""

DUCKDB_SQL = """
CREATE SCHEMA sales;
CREATE SCHEMA empty_schema;
CREATE TABLE sales.customers (
    id INTEGER PRIMARY KEY,
    email VARCHAR NOT NULL UNIQUE,
    "Display Name" VARCHAR,
    balance DECIMAL(12, 2),
    created_at TIMESTAMP
);
CREATE TABLE sales.orders (
    customer_id INTEGER NOT NULL REFERENCES sales.customers (id),
    order_no INTEGER NOT NULL,
    placed_on DATE NOT NULL,
    PRIMARY KEY (customer_id, order_no)
);
COMMENT ON TABLE sales.customers IS 'People who buy things';
COMMENT ON COLUMN sales.customers.email IS 'Login e-mail, unique';
CREATE VIEW sales.big_customers AS SELECT id, email FROM sales.customers WHERE id > 100;
"""
