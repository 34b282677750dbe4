DROP TABLE sso_codes;
DROP TABLE sso_logins;
DROP INDEX sso_identities_user;
DROP TABLE sso_identities;
