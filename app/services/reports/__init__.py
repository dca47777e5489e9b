"""Dashboards and reports: figures a reseller (or the master ISP) reads about its business.

- `periods`:   months and date ranges in a tenant's time zone, as UTC instants for the queries;
- `scope`:     whose data a figure covers (one tenant, a parent with its descendants, the platform) and
               how it is read: one tenant context, one short session at a time, never a cross-schema join;
- `dashboard`: the reseller dashboard's figures, each with twelve months of history;
- `reports`:   the tabular reports (revenue, commissions, churn, collections, service distribution,
               customers by status) as rows and totals;
- `export`:    CSV and XLSX of a report;
- `schedules`: reports e-mailed daily, weekly or monthly.
"""
