"""All tables, in one metadata that Alembic migrates.

Invariants the schema itself keeps, on SQLite and PostgreSQL alike:
- `slots.booked` never exceeds `slots.capacity` (CHECK), whatever the code does, and the
  seats reserved for the phone channel are seats nobody holds: `0 <= phone_reserved <=
  capacity - booked` (CHECK, migration 0015).
- A person holds at most one active booking per campaign (partial unique index on
  `persons.person_key` where `active`).
- A verification authorises at most one booking (unique `bookings.verification_id`).
- A waiting-room admission books at most once (unique `bookings.admission`, written in the
  booking's own transaction): only a booking that committed uses it up, and the record
  survives whatever happens to Redis.
- An idempotency key is stored once per scope (primary key), so a retried request finds
  the first answer instead of booking again.
- `slot_days` holds, per centre, vaccine, local day and release minute, the sums of capacity,
  booked and phone-reserved seats of the released slots: triggers on `slots` (migrations 0005
  and 0015) change it in the same transaction as the slots, whichever code path writes them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)

from kontingent.db import UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)
# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a bigint.
Id = BigInteger().with_variant(Integer, "sqlite")

regions = Table(
    "regions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
)

districts = Table(
    "districts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("region_id", ForeignKey("regions.id"), nullable=False),
    Column("name", String(100), nullable=False, unique=True),
    Column("kind", String(40), nullable=False, server_default=""),
)

# A postcode may span districts (then it has a row per district, and people say which place
# they live in); `places` names the municipalities of the postcode in that district.
postcodes = Table(
    "postcodes",
    metadata,
    Column("postcode", String(5), primary_key=True),
    Column("district_id", ForeignKey("districts.id"), primary_key=True, index=True),
    Column("places", String(400), nullable=False, server_default=""),
)

centres = Table(
    "centres",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("district_id", ForeignKey("districts.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("street", String(200), nullable=False, server_default=""),
    Column("postcode", String(5), nullable=False),
    Column("city", String(100), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("lanes", SmallInteger, nullable=False),
    Column("slot_minutes", SmallInteger, nullable=False, server_default="15"),
    CheckConstraint("lanes > 0", name="lanes_positive"),
    CheckConstraint("slot_minutes > 0", name="slot_minutes_positive"),
)

opening_hours = Table(
    "opening_hours",
    metadata,
    Column("centre_id", ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True),
    Column("weekday", SmallInteger, primary_key=True),  # 0 = Monday
    Column("opens", Time, nullable=False),
    Column("closes", Time, nullable=False),
    CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
    CheckConstraint("opens < closes", name="opens_before_closes"),
)

vaccines = Table(
    "vaccines",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("doses", SmallInteger, nullable=False),
    Column("interval_min_days", SmallInteger, nullable=False, server_default="0"),
    Column("interval_max_days", SmallInteger, nullable=False, server_default="0"),
    # Where offers put the second dose when the calendar allows; NULL: the minimum.
    Column("interval_recommended_days", SmallInteger),
    Column("min_age", SmallInteger),
    Column("max_age", SmallInteger),
    CheckConstraint("doses IN (1, 2)", name="doses_one_or_two"),
    CheckConstraint("interval_min_days <= interval_max_days", name="interval_ordered"),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("booking_from", UtcDateTime, nullable=False),
    Column("booking_until", UtcDateTime, nullable=False),
    CheckConstraint("booking_from < booking_until", name="window_ordered"),
)

cohorts = Table(
    "cohorts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", ForeignKey("campaigns.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("min_age", SmallInteger, nullable=False),
    Column("max_age", SmallInteger),
    Column("opens_at", UtcDateTime, nullable=False),
    Column("district_rule", String(10), nullable=False, server_default="own"),
    CheckConstraint("district_rule IN ('own', 'region')", name="district_rule_known"),
)

cohort_vaccines = Table(
    "cohort_vaccines",
    metadata,
    Column("cohort_id", ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    Column("vaccine_code", ForeignKey("vaccines.code"), primary_key=True),
)

contingents = Table(
    "contingents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("centre_id", ForeignKey("centres.id"), nullable=False, index=True),
    Column("vaccine_code", ForeignKey("vaccines.code"), nullable=False),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("release_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The percentage of its seats held back for the phone channel when it was recorded
    # (default: KONTINGENT_PHONE_SHARE_PERCENT); its slots carry the seats in `phone_reserved`.
    Column("phone_share_percent", SmallInteger, nullable=False, server_default="0"),
    CheckConstraint("first_day <= last_day", name="days_ordered"),
)

slots = Table(
    "slots",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("centre_id", ForeignKey("centres.id"), nullable=False),
    Column("vaccine_code", ForeignKey("vaccines.code"), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    # The local calendar day (Europe/Berlin) of `starts_at`: what `slot_days` adds up by.
    Column("day", Date, nullable=False),
    Column("capacity", SmallInteger, nullable=False),
    Column("booked", SmallInteger, nullable=False, server_default="0"),
    Column("contingent_id", ForeignKey("contingents.id")),
    # Copy of the contingent's release minute, so the hot path checks one row only.
    Column("bookable_from", UtcDateTime),
    # Seats only the phone channel may take (issue 15): web and on-site bookings leave them;
    # the release job sets it to 0 a set time before the start (jobs/phone_release.py).
    Column("phone_reserved", SmallInteger, nullable=False, server_default="0"),
    CheckConstraint("booked <= capacity", name="not_overbooked"),
    CheckConstraint(
        "phone_reserved >= 0 AND booked + phone_reserved <= capacity", name="phone_reserve_fits"
    ),
    CheckConstraint("booked >= 0", name="booked_not_negative"),
    CheckConstraint("capacity >= 0", name="capacity_not_negative"),
    UniqueConstraint("centre_id", "vaccine_code", "starts_at", name="uq_slots_centre_time"),
    Index("ix_slots_day", "day"),
    # The release job's read: only slots that still hold a reserve are in it.
    Index(
        "ix_slots_phone_reserved",
        "starts_at",
        sqlite_where=text("phone_reserved > 0"),
        postgresql_where=text("phone_reserved > 0"),
    ),
    # Room on each page, so a booking's update of `booked` (in no index) stays HOT.
    postgresql_with={"fillfactor": 85},
)

# Seats per centre, vaccine, local day and release minute, kept by triggers on `slots`
# (migration 0005) in the transaction of every change to a slot, so the public feed reads a
# few thousand rows instead of every slot. Slots with no release (`bookable_from` NULL) are
# not counted: they cannot be booked.
slot_days = Table(
    "slot_days",
    metadata,
    Column("centre_id", Integer, primary_key=True),
    Column("vaccine_code", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("bookable_from", UtcDateTime, primary_key=True),
    Column("capacity", Integer, nullable=False),
    Column("booked", Integer, nullable=False),
    Column("phone_reserved", Integer, nullable=False, server_default="0"),
)

# Days an admin opened although they are public holidays in NRW (centre_id NULL: every
# centre); any other holiday closes every centre for offers (inventory/closures.py).
opened_days = Table(
    "opened_days",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("centre_id", ForeignKey("centres.id")),
    Column("day", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_opened_days_day", "day"),
)

# Days an admin closed one centre (admin/centres_closures.py, migration 0016): offers skip
# them and bookings of their slots are refused (inventory/closures.py), holiday or not.
closed_days = Table(
    "closed_days",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("centre_id", ForeignKey("centres.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),
    Column("reason", String(200), nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False, server_default=""),
    UniqueConstraint("centre_id", "day", name="uq_closed_days_centre_day"),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("campaign_id", ForeignKey("campaigns.id"), nullable=False),
    Column("centre_id", ForeignKey("centres.id"), nullable=False),
    Column("vaccine_code", ForeignKey("vaccines.code"), nullable=False),
    Column("status", String(12), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("verification_id", String(40), unique=True),
    Column("channel", String(10), nullable=False, server_default="web"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime),
    # The ticket of the waiting-room admission this booking was made with (null: the room
    # did not guard). Unique: one admission books once (migration 0007).
    Column("admission", String(64)),
    # The language the booking was made in: its messages are written in it (migration 0009).
    Column("language", String(2), nullable=False, server_default="de"),
    # When its persons' personal data was deleted (retention/, migration 0014).
    Column("purged_at", UtcDateTime),
    CheckConstraint("status IN ('booked', 'cancelled')", name="status_known"),
    # The dashboard's bookings per minute of the last hour read this range (migration 0017).
    Index("ix_bookings_created_at", "created_at"),
    Index(
        "uq_bookings_admission",
        "admission",
        unique=True,
        sqlite_where=text("admission IS NOT NULL"),
        postgresql_where=text("admission IS NOT NULL"),
    ),
)

persons = Table(
    "persons",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # Looked up through uq_persons_booking_position, which starts with booking_id.
    Column("booking_id", ForeignKey("bookings.id"), nullable=False),
    Column("position", SmallInteger, nullable=False),
    Column("campaign_id", ForeignKey("campaigns.id"), nullable=False),
    # Normalised name and birth date: who counts as "the same person".
    Column("person_key", String(300), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("birth_date", Date),  # empty only once purged (retention/)
    Column("postcode", String(5), nullable=False),
    Column("city", String(100), nullable=False),
    Column("street", String(200), nullable=False),
    Column("house_number", String(20), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("email", String(254)),
    UniqueConstraint("booking_id", "position", name="uq_persons_booking_position"),
    Index(
        "uq_persons_active_per_campaign",
        "campaign_id",
        "person_key",
        unique=True,
        sqlite_where=text("active"),
        postgresql_where=text("active"),
    ),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("booking_id", ForeignKey("bookings.id"), nullable=False, index=True),
    Column("person_position", SmallInteger, nullable=False),
    Column("slot_id", ForeignKey("slots.id"), nullable=False, index=True),
    Column("dose", SmallInteger, nullable=False),
    Column("status", String(12), nullable=False, server_default="booked"),
    # Set when the day-before reminder was queued (or judged needless), so it is queued once.
    Column("reminded_at", UtcDateTime),
    # What the centre recorded on the day (centre/, migration 0018): when, the batch number
    # (Chargennummer) given, and which staff user recorded it.
    Column("checked_in_at", UtcDateTime),
    Column("vaccinated_at", UtcDateTime),
    Column("no_show_at", UtcDateTime),
    Column("batch", String(20)),
    Column("vaccinated_by", Integer),
    Column("recorded_by", Integer),
    CheckConstraint(
        "status IN ('booked', 'checked_in', 'vaccinated', 'no_show', 'cancelled')",
        name="status_known",
    ),
    CheckConstraint("batch IS NULL OR length(batch) BETWEEN 3 AND 20", name="batch_shape"),
    ForeignKeyConstraint(
        ["booking_id", "person_position"],
        ["persons.booking_id", "persons.position"],
        name="fk_appointments_person",
    ),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(40), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", SmallInteger, nullable=False),
    Column("response", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

verifications = Table(
    "verifications",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("phone", String(20), nullable=False),
    Column("pin_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("resend_after", UtcDateTime, nullable=False),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("verified_at", UtcDateTime),
    Column("language", String(2), nullable=False, server_default="de"),  # of the PIN SMS
    Index("ix_verifications_phone_created", "phone", "created_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # Stable id a receiver uses to drop duplicates of an at-least-once delivery.
    Column("message_id", String(40), nullable=False, unique=True),
    Column("channel", String(8), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(200), nullable=False, server_default=""),
    Column("body", Text, nullable=False),
    Column("priority", SmallInteger, nullable=False, server_default="5"),  # 0 goes first
    Column("created_at", UtcDateTime, nullable=False),
    Column("available_at", UtcDateTime, nullable=False),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("sent_at", UtcDateTime),
    Column("parked_at", UtcDateTime),
    Column("last_error", Text),
    # iCalendar text sent as an attachment with an e-mail.
    Column("calendar", Text),
    # The door ticket (checkin/model.py) an e-mail shows as an inline QR code; the relay draws
    # it when it sends, so the booking's transaction writes 35 characters, not an image.
    Column("qr", String(64)),
    # The language of the message (migration 0018): an e-mail's Content-Language and the alt
    # text of its QR image are written in it when the relay sends.
    Column("language", String(2), nullable=False, server_default="de"),
    # A message still undelivered at this time is parked as expired (a PIN past its validity).
    Column("expires_at", UtcDateTime),
    # Whom the per-recipient cap counts this message against (notifications.model.recipient_key);
    # NULL for PINs, which the cap leaves to their own rules.
    Column("recipient_key", String(254)),
    CheckConstraint("channel IN ('sms', 'email')", name="channel_known"),
    # Relays claim per channel, in priority order: this index serves exactly that scan.
    Index(
        "ix_outbox_pending",
        "channel",
        "priority",
        "available_at",
        "id",
        sqlite_where=text("sent_at IS NULL AND parked_at IS NULL"),
        postgresql_where=text("sent_at IS NULL AND parked_at IS NULL"),
    ),
    Index(
        "ix_outbox_parked",
        "parked_at",
        sqlite_where=text("parked_at IS NOT NULL"),
        postgresql_where=text("parked_at IS NOT NULL"),
    ),
    # The cap's count: one recipient's messages of the last period. PINs stay out of it.
    Index(
        "ix_outbox_recipient_recent",
        "recipient_key",
        "created_at",
        sqlite_where=text("recipient_key IS NOT NULL"),
        postgresql_where=text("recipient_key IS NOT NULL"),
    ),
)

dev_mailbox = Table(
    "dev_mailbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_id", String(40), nullable=False, unique=True),
    Column("channel", String(8), nullable=False),
    Column("recipient", String(254), nullable=False, index=True),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
)

# People who found nothing free and asked for one SMS when offers appear (waitlist package).
# One waiting entry per phone, centre and vaccine (partial unique index while not notified).
waitlist = Table(
    "waitlist",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("campaign_id", ForeignKey("campaigns.id"), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("centre_id", ForeignKey("centres.id"), nullable=False),
    Column("vaccine_code", ForeignKey("vaccines.code"), nullable=False),
    Column("persons", SmallInteger, nullable=False, server_default="1"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("notified_at", UtcDateTime),
    Column("language", String(2), nullable=False, server_default="de"),  # of the SMS
    CheckConstraint("persons BETWEEN 1 AND 2", name="persons_range"),
    Index(
        "uq_waitlist_waiting",
        "campaign_id",
        "phone",
        "centre_id",
        "vaccine_code",
        unique=True,
        sqlite_where=text("notified_at IS NULL"),
        postgresql_where=text("notified_at IS NULL"),
    ),
    Index(
        "ix_waitlist_pending",
        "centre_id",
        "vaccine_code",
        sqlite_where=text("notified_at IS NULL"),
        postgresql_where=text("notified_at IS NULL"),
    ),
)

# Inhabitants per district and age group (`age_to` NULL: and older), imported from a CSV by
# `kontingent population import` (admin/population.py, migration 0017): what the statistics
# give each cohort's share of. Empty until imported.
population = Table(
    "population",
    metadata,
    Column("district_id", ForeignKey("districts.id"), primary_key=True),
    Column("age_from", SmallInteger, primary_key=True),
    Column("age_to", SmallInteger),
    Column("people", Integer, nullable=False),
    CheckConstraint("age_from >= 0", name="age_from_positive"),
    CheckConstraint("age_to IS NULL OR age_to >= age_from", name="ages_ordered"),
    CheckConstraint("people >= 0", name="people_positive"),
)

# The waiting room's settings as the operator last set them at run time (`kontingent
# waiting-room set`): one row, or none while the environment's settings apply. Redis holds a
# copy every process reads; this row is what a Redis that came back empty gets back.
waiting_room_settings = Table(
    "waiting_room_settings",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("mode", String(12), nullable=False),
    Column("opens_at", UtcDateTime),
    Column("rate", Float, nullable=False),
    Column("ttl_s", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("id = 1", name="one_row"),
)

# The catalogue's version (migration 0020): one row whose `version` every change of the
# catalogue (centres, opening hours, closed and opened days, vaccines, cohorts, the booking
# window, postcodes) raises by one in its own transaction. Each process reads it at most once
# a second (inventory/catalogue_version.py): a change reaches every process within a second,
# with Redis or without it.
catalogue_version = Table(
    "catalogue_version",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("version", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("id = 1", name="one_row"),
)

# The staff and release tables live with their packages; imported here so that this metadata, which
# Alembic and the tests read, holds every table. Last: the module above must be complete.
from kontingent.admin import releases_tables as _release_tables  # noqa: E402, F401
from kontingent.staff import tables as _staff_tables  # noqa: E402, F401
