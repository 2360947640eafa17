-- casefile_require_visible(ok) is true when ok is, and otherwise refuses with
-- SQLSTATE CF403. A read sends its access check first and its own statements
-- after it in one round trip (readTx); a failed statement skips the rest, so
-- a refused read's statements never run.
CREATE FUNCTION casefile_require_visible(ok boolean) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'restricted record' USING ERRCODE = 'CF403';
    END IF;
    RETURN true;
END $$;
