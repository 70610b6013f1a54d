"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 15:46:21.940900
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("booking_from", sa.DateTime(), nullable=False),
        sa.Column("booking_until", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "booking_from < booking_until", name=op.f("ck_campaigns_window_ordered")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_campaigns_name")),
    )
    op.create_table(
        "dev_mailbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_mailbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_dev_mailbox_message_id")),
    )
    with op.batch_alter_table("dev_mailbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dev_mailbox_recipient"), ["recipient"], unique=False)

    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), server_default="", nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), server_default="5", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("available_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("parked_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_outbox_channel_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_pending",
            ["priority", "available_at"],
            unique=False,
            sqlite_where=sa.text("sent_at IS NULL AND parked_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL AND parked_at IS NULL"),
        )

    op.create_table(
        "regions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
        sa.UniqueConstraint("name", name=op.f("uq_regions_name")),
    )
    op.create_table(
        "vaccines",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("doses", sa.SmallInteger(), nullable=False),
        sa.Column("interval_min_days", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("interval_max_days", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("min_age", sa.SmallInteger(), nullable=True),
        sa.Column("max_age", sa.SmallInteger(), nullable=True),
        sa.CheckConstraint("doses IN (1, 2)", name=op.f("ck_vaccines_doses_one_or_two")),
        sa.CheckConstraint(
            "interval_min_days <= interval_max_days", name=op.f("ck_vaccines_interval_ordered")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_vaccines")),
    )
    op.create_table(
        "verifications",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("pin_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("resend_after", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifications")),
    )
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_verifications_phone_created", ["phone", "created_at"], unique=False
        )

    op.create_table(
        "cohorts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("min_age", sa.SmallInteger(), nullable=False),
        sa.Column("max_age", sa.SmallInteger(), nullable=True),
        sa.Column("opens_at", sa.DateTime(), nullable=False),
        sa.Column("district_rule", sa.String(length=10), server_default="own", nullable=False),
        sa.CheckConstraint(
            "district_rule IN ('own', 'region')", name=op.f("ck_cohorts_district_rule_known")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_cohorts_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohorts")),
    )
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cohorts_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "districts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_districts_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_districts")),
        sa.UniqueConstraint("name", name=op.f("uq_districts_name")),
    )
    op.create_table(
        "centres",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("street", sa.String(length=200), server_default="", nullable=False),
        sa.Column("postcode", sa.String(length=5), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lanes", sa.SmallInteger(), nullable=False),
        sa.Column("slot_minutes", sa.SmallInteger(), server_default="15", nullable=False),
        sa.CheckConstraint("lanes > 0", name=op.f("ck_centres_lanes_positive")),
        sa.CheckConstraint("slot_minutes > 0", name=op.f("ck_centres_slot_minutes_positive")),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_centres_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centres")),
    )
    with op.batch_alter_table("centres", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_centres_district_id"), ["district_id"], unique=False)

    op.create_table(
        "cohort_vaccines",
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("vaccine_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_cohort_vaccines_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vaccine_code"],
            ["vaccines.code"],
            name=op.f("fk_cohort_vaccines_vaccine_code_vaccines"),
        ),
        sa.PrimaryKeyConstraint("cohort_id", "vaccine_code", name=op.f("pk_cohort_vaccines")),
    )
    op.create_table(
        "postcodes",
        sa.Column("postcode", sa.String(length=5), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_postcodes_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("postcode", name=op.f("pk_postcodes")),
    )
    with op.batch_alter_table("postcodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postcodes_district_id"), ["district_id"], unique=False)

    op.create_table(
        "bookings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("vaccine_code", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("verification_id", sa.String(length=40), nullable=True),
        sa.Column("channel", sa.String(length=10), server_default="web", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled')", name=op.f("ck_bookings_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_bookings_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_bookings_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["vaccine_code"], ["vaccines.code"], name=op.f("fk_bookings_vaccine_code_vaccines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("code", name=op.f("uq_bookings_code")),
        sa.UniqueConstraint("verification_id", name=op.f("uq_bookings_verification_id")),
    )
    op.create_table(
        "contingents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("vaccine_code", sa.String(length=40), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("release_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_contingents_days_ordered")),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_contingents_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["vaccine_code"], ["vaccines.code"], name=op.f("fk_contingents_vaccine_code_vaccines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contingents")),
    )
    with op.batch_alter_table("contingents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contingents_centre_id"), ["centre_id"], unique=False)

    op.create_table(
        "opening_hours",
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.CheckConstraint("opens < closes", name=op.f("ck_opening_hours_opens_before_closes")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_opening_hours_weekday_range")),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_opening_hours_centre_id_centres"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("centre_id", "weekday", name=op.f("pk_opening_hours")),
    )
    op.create_table(
        "persons",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "booking_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_key", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("postcode", sa.String(length=5), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("house_number", sa.String(length=20), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_persons_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_persons_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("booking_id", "position", name="uq_persons_booking_position"),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_persons_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index(
            "uq_persons_active_per_campaign",
            ["campaign_id", "person_key"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )

    op.create_table(
        "slots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("vaccine_code", sa.String(length=40), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("capacity", sa.SmallInteger(), nullable=False),
        sa.Column("booked", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("contingent_id", sa.Integer(), nullable=True),
        sa.Column("bookable_from", sa.DateTime(), nullable=True),
        sa.CheckConstraint("booked <= capacity", name=op.f("ck_slots_not_overbooked")),
        sa.CheckConstraint("booked >= 0", name=op.f("ck_slots_booked_not_negative")),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_slots_capacity_not_negative")),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_slots_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["contingent_id"], ["contingents.id"], name=op.f("fk_slots_contingent_id_contingents")
        ),
        sa.ForeignKeyConstraint(
            ["vaccine_code"], ["vaccines.code"], name=op.f("fk_slots_vaccine_code_vaccines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slots")),
        sa.UniqueConstraint("centre_id", "vaccine_code", "starts_at", name="uq_slots_centre_time"),
    )
    op.create_table(
        "appointments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "booking_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("person_position", sa.SmallInteger(), nullable=False),
        sa.Column("slot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dose", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="booked", nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id", "person_position"],
            ["persons.booking_id", "persons.position"],
            name="fk_appointments_person",
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_appointments_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_appointments_slot_id_slots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointments_booking_id"), ["booking_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_appointments_slot_id"), ["slot_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_slot_id"))
        batch_op.drop_index(batch_op.f("ix_appointments_booking_id"))

    op.drop_table("appointments")
    op.drop_table("slots")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_persons_active_per_campaign",
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )
        batch_op.drop_index(batch_op.f("ix_persons_booking_id"))

    op.drop_table("persons")
    op.drop_table("opening_hours")
    with op.batch_alter_table("contingents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contingents_centre_id"))

    op.drop_table("contingents")
    op.drop_table("bookings")
    with op.batch_alter_table("postcodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postcodes_district_id"))

    op.drop_table("postcodes")
    op.drop_table("cohort_vaccines")
    with op.batch_alter_table("centres", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_centres_district_id"))

    op.drop_table("centres")
    op.drop_table("districts")
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cohorts_campaign_id"))

    op.drop_table("cohorts")
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_index("ix_verifications_phone_created")

    op.drop_table("verifications")
    op.drop_table("vaccines")
    op.drop_table("regions")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_pending",
            sqlite_where=sa.text("sent_at IS NULL AND parked_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL AND parked_at IS NULL"),
        )

    op.drop_table("outbox")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("dev_mailbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dev_mailbox_recipient"))

    op.drop_table("dev_mailbox")
    op.drop_table("campaigns")
