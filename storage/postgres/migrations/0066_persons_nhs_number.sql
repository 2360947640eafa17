-- A person's NHS number, when known: ten digits with a valid Modulus 11 check
-- digit (checked by the service; the database keeps the shape). The
-- third-party check warns of a note that quotes another person's.
ALTER TABLE persons ADD COLUMN nhs_number text CHECK (nhs_number ~ '^[0-9]{10}$');
CREATE INDEX persons_nhs_number ON persons (nhs_number) WHERE nhs_number IS NOT NULL;
