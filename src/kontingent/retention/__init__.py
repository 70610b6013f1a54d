"""Retention: the persons' personal data of a booking is deleted once its appointments are
over and the campaign no longer needs it (`kontingent purge-personal-data`)."""
