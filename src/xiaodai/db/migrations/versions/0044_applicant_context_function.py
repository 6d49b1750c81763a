"""applicant_context(...): the decision's read of the applicant's context as a function (PostgreSQL only).

A credit decision reads everything the database knows about the applicant in one statement (platform
vector, consents, an earlier pull, the identity: ``features.assemble.context_columns``, ~20 scalar
subqueries). Sent as a statement, PostgreSQL parsed, analysed and planned it again on every decision:
~2 ms of the server's time (2026-12-06 machine), more than the rest of the decision's database work and
the Python side together. psycopg's automatic prepared statements do not keep it: any ROLLBACK on the
connection (every read-only request ends with one) makes psycopg forget its prepared statements, so the
statement never reaches its fifth execution. A PL/pgSQL function keeps the plan of its query for the life
of the server session (custom plans for the first calls, then the generic one), whatever the client does.

The body is ``context_columns`` compiled for PostgreSQL with its constants written in and its parameters
named as the arguments (``features.assemble.context_function_sql``); a test checks the stored body is
that text, so the two cannot drift apart (a change to the context's SQL needs a migration replacing this
function). STABLE: its query sees the calling statement's snapshot, as the subqueries did. No data changes.
SQLite keeps the statement.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION applicant_context(
            p_user integer,
            p_as_of date,
            p_year_ago date,
            p_since_30d timestamptz,
            p_since_year timestamptz,
            p_application varchar
        )
        RETURNS TABLE (
            c_user boolean,
            c_consent_credit_check bigint,
            c_consent_ecosystem_data bigint,
            c_pull bigint,
            c_bidx varchar,
            c_id_enc text,
            p_exposure_fen numeric,
            p_loan_dpd integer,
            p_repaid bigint,
            p_late_now integer,
            p_late_12m integer,
            p_due bigint,
            p_on_time bigint,
            p_recent bigint,
            p_complaints bigint,
            p_hardship bigint,
            p_blocklisted boolean
        )
        LANGUAGE plpgsql STABLE AS $$
        BEGIN
            RETURN QUERY
            SELECT EXISTS (SELECT * FROM users WHERE users.id = p_user::INTEGER) AS c_user,
            (SELECT max(consents.id) AS max_1 FROM consents WHERE consents.user_id = p_user::INTEGER AND
                consents.kind = 'credit_check'::VARCHAR AND consents.withdrawn_at IS NULL) AS
                c_consent_credit_check,
            (SELECT max(consents.id) AS max_2 FROM consents WHERE consents.user_id = p_user::INTEGER AND
                consents.kind = 'ecosystem_data'::VARCHAR AND consents.withdrawn_at IS NULL) AS
                c_consent_ecosystem_data,
            (SELECT bureau_pulls.id FROM bureau_pulls WHERE bureau_pulls.application_id =
                p_application::VARCHAR) AS c_pull,
            (SELECT personal_data.id_number_bidx FROM personal_data WHERE personal_data.user_id =
                p_user::INTEGER) AS c_bidx,
            (SELECT personal_data.id_number_enc FROM personal_data WHERE personal_data.user_id =
                p_user::INTEGER) AS c_id_enc,
            (SELECT coalesce(sum(loans.principal_outstanding_fen), 0::INTEGER) AS coalesce_1 FROM loans
                WHERE loans.borrower_id = p_user::INTEGER AND loans.state IN ('signed', 'active',
                'overdue')) AS p_exposure_fen,
            (SELECT coalesce(max(loans.dpd), 0::INTEGER) AS coalesce_3 FROM loans WHERE loans.borrower_id =
                p_user::INTEGER AND loans.state IN ('signed', 'active', 'overdue')) AS p_loan_dpd,
            (SELECT count(loans.id) AS count_1 FROM loans WHERE loans.borrower_id = p_user::INTEGER AND
                loans.state = 'settled'::VARCHAR) AS p_repaid,
            (SELECT max(p_as_of::DATE - installments.due_on) AS max_3 FROM installments WHERE
                installments.loan_id IN (SELECT loans.id FROM loans WHERE loans.borrower_id =
                p_user::INTEGER AND loans.state IN ('signed', 'active', 'overdue')) AND installments.active
                IS true AND installments.due_on < p_as_of::DATE AND installments.paid_on IS NULL) AS
                p_late_now,
            (SELECT max(coalesce(installments.paid_on, p_as_of::DATE) - installments.due_on) AS max_4 FROM
                installments WHERE installments.loan_id IN (SELECT loans.id FROM loans WHERE
                loans.borrower_id = p_user::INTEGER) AND installments.active IS true AND installments.due_on
                < p_as_of::DATE AND installments.due_on >= p_year_ago::DATE) AS p_late_12m,
            (SELECT count(installments.id) AS count_2 FROM installments WHERE installments.loan_id IN
                (SELECT loans.id FROM loans WHERE loans.borrower_id = p_user::INTEGER) AND
                installments.active IS true AND installments.due_on < p_as_of::DATE) AS p_due,
            (SELECT count(installments.id) AS count_3 FROM installments WHERE installments.loan_id IN
                (SELECT loans.id FROM loans WHERE loans.borrower_id = p_user::INTEGER) AND
                installments.active IS true AND installments.due_on < p_as_of::DATE AND installments.paid_on
                IS NOT NULL AND installments.paid_on <= installments.due_on) AS p_on_time,
            (SELECT count(applications.id) AS count_4 FROM applications WHERE applications.user_id =
                p_user::INTEGER AND applications.created_at >= p_since_30d::TIMESTAMP WITH TIME ZONE AND
                applications.public_id != coalesce(p_application::VARCHAR, ''::VARCHAR)) AS p_recent,
            (SELECT count(complaints.id) AS count_5 FROM complaints WHERE complaints.user_id =
                p_user::INTEGER AND complaints.received_at >= p_since_year::TIMESTAMP WITH TIME ZONE) AS
                p_complaints,
            (SELECT count(loan_events.id) AS count_6 FROM loan_events JOIN loans ON loans.id =
                loan_events.loan_id WHERE loans.borrower_id = p_user::INTEGER AND loan_events.kind =
                'hardship-extension'::VARCHAR) AS p_hardship,
            EXISTS (SELECT * FROM blocklist WHERE blocklist.removed_at IS NULL AND (blocklist.user_id =
                p_user::INTEGER OR blocklist.id_number_bidx = (SELECT personal_data.id_number_bidx FROM
                personal_data WHERE personal_data.user_id = p_user::INTEGER))) AS p_blocklisted;
        END $$""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DROP FUNCTION IF EXISTS applicant_context(integer, date, date, timestamptz, timestamptz, varchar)"
    )
