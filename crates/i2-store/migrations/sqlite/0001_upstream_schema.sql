-- i2server schema, SQLite flavour.
--
-- Creates every table that the upstream CCP4i2 3.0.1 Django server's `migrate` creates with its
-- default settings (apps: contenttypes, auth, ccp4i2), so that a database made by i2server can be
-- opened by the upstream server / `run_job` unchanged and vice versa.
--
-- Compatibility facts this file relies on (verified with tests/schema/compare_schema.py):
--  * Declared column types are the ones Django's SQLite backend writes (char(32) for UUIDs,
--    datetime, bool, bigint for foreign keys into BigAutoField tables, ...). SQLite ignores most of
--    them, but they are what upstream introspects and what type affinity is derived from.
--  * Surrogate keys are `integer NOT NULL PRIMARY KEY AUTOINCREMENT` (rowid alias, ids never reused).
--  * Foreign keys are DEFERRABLE INITIALLY DEFERRED with no ON DELETE action: cascades, SET NULL and
--    RESTRICT are implemented in application code (Django's collector / i2server's store), not here.
--  * Index names follow upstream's names so a later upstream migration finds what it expects.
--  * Column order matches upstream's tables on SQLite (it differs from PostgreSQL in a few tables,
--    because upstream's SQLite migrations rebuilt some tables).

-- ---------------------------------------------------------------------------------------------
-- Django framework tables
-- ---------------------------------------------------------------------------------------------

CREATE TABLE "django_migrations" (
    "id"      integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "app"     varchar(255) NOT NULL,
    "name"    varchar(255) NOT NULL,
    "applied" datetime NOT NULL
);

CREATE TABLE "django_content_type" (
    "id"        integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "app_label" varchar(100) NOT NULL,
    "model"     varchar(100) NOT NULL
);
CREATE UNIQUE INDEX "django_content_type_app_label_model_76bd3d3b_uniq"
    ON "django_content_type" ("app_label", "model");

CREATE TABLE "auth_permission" (
    "id"              integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "content_type_id" integer NOT NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED,
    "codename"        varchar(100) NOT NULL,
    "name"            varchar(255) NOT NULL
);
CREATE UNIQUE INDEX "auth_permission_content_type_id_codename_01ab375a_uniq"
    ON "auth_permission" ("content_type_id", "codename");
CREATE INDEX "auth_permission_content_type_id_2f476e4b" ON "auth_permission" ("content_type_id");

CREATE TABLE "auth_group" (
    "id"   integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" varchar(150) NOT NULL UNIQUE
);

CREATE TABLE "auth_group_permissions" (
    "id"            integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "group_id"      integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED,
    "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX "auth_group_permissions_group_id_permission_id_0cd325b0_uniq"
    ON "auth_group_permissions" ("group_id", "permission_id");
CREATE INDEX "auth_group_permissions_group_id_b120cbf9" ON "auth_group_permissions" ("group_id");
CREATE INDEX "auth_group_permissions_permission_id_84c5c92e" ON "auth_group_permissions" ("permission_id");

CREATE TABLE "auth_user" (
    "id"           integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "password"     varchar(128) NOT NULL,
    "last_login"   datetime NULL,
    "is_superuser" bool NOT NULL,
    "username"     varchar(150) NOT NULL UNIQUE,
    "last_name"    varchar(150) NOT NULL,
    "email"        varchar(254) NOT NULL,
    "is_staff"     bool NOT NULL,
    "is_active"    bool NOT NULL,
    "date_joined"  datetime NOT NULL,
    "first_name"   varchar(150) NOT NULL
);

CREATE TABLE "auth_user_groups" (
    "id"       integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "user_id"  integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED,
    "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX "auth_user_groups_user_id_group_id_94350c0c_uniq"
    ON "auth_user_groups" ("user_id", "group_id");
CREATE INDEX "auth_user_groups_user_id_6a12ed8b" ON "auth_user_groups" ("user_id");
CREATE INDEX "auth_user_groups_group_id_97559544" ON "auth_user_groups" ("group_id");

CREATE TABLE "auth_user_user_permissions" (
    "id"            integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "user_id"       integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED,
    "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX "auth_user_user_permissions_user_id_permission_id_14a6b632_uniq"
    ON "auth_user_user_permissions" ("user_id", "permission_id");
CREATE INDEX "auth_user_user_permissions_user_id_a95ead1b" ON "auth_user_user_permissions" ("user_id");
CREATE INDEX "auth_user_user_permissions_permission_id_1fbb5f2c" ON "auth_user_user_permissions" ("permission_id");

-- ---------------------------------------------------------------------------------------------
-- CCP4i2 tables
-- ---------------------------------------------------------------------------------------------

-- Lookup tables keyed by name (no surrogate id).
CREATE TABLE "ccp4i2_filetype" (
    "name"        varchar(50) NOT NULL PRIMARY KEY,
    "description" text NOT NULL
);

CREATE TABLE "ccp4i2_jobvaluekey" (
    "name"        varchar(50) NOT NULL PRIMARY KEY,
    "description" text NOT NULL
);

-- Projects. follow_from_job_id points forward to ccp4i2_job (circular reference; SQLite resolves
-- REFERENCES lazily, so table order does not matter here).
CREATE TABLE "ccp4i2_project" (
    "id"                   integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "uuid"                 char(32) NOT NULL UNIQUE,
    "name"                 varchar(100) NOT NULL UNIQUE,
    "description"          text NOT NULL,
    "directory"            text NOT NULL UNIQUE,
    "creation_time"        datetime NOT NULL,
    "creation_user"        text NOT NULL,
    "creation_host"        text NOT NULL,
    "last_access"          datetime NOT NULL,
    "last_job_number"      integer NOT NULL,
    "i1_project_name"      text NOT NULL,
    "i1_project_directory" text NOT NULL,
    "follow_from_job_id"   bigint NULL REFERENCES "ccp4i2_job" ("id") DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX "ccp4i2_project_follow_from_job_id_ab3c458d" ON "ccp4i2_project" ("follow_from_job_id");

CREATE TABLE "ccp4i2_job" (
    "id"            integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "uuid"          char(32) NOT NULL UNIQUE,
    "number"        varchar(50) NOT NULL,
    "title"         varchar(255) NOT NULL,
    "status"        integer NOT NULL,
    "evaluation"    integer NOT NULL,
    "comments"      text NOT NULL,
    "creation_time" datetime NOT NULL,
    "finish_time"   datetime NULL,
    "task_name"     varchar(100) NOT NULL,
    "process_id"    integer NULL,
    "project_id"    bigint NOT NULL REFERENCES "ccp4i2_project" ("id") DEFERRABLE INITIALLY DEFERRED,
    "parent_id"     bigint NULL REFERENCES "ccp4i2_job" ("id") DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX "ccp4i2_job_project_id_number_6037eb4b_uniq" ON "ccp4i2_job" ("project_id", "number");
CREATE INDEX "ccp4i2_job_project_id_573f3a8a" ON "ccp4i2_job" ("project_id");
CREATE INDEX "ccp4i2_job_parent_id_08072fe8" ON "ccp4i2_job" ("parent_id");

CREATE TABLE "ccp4i2_file" (
    "id"             integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "uuid"           char(32) NOT NULL UNIQUE,
    "name"           text NOT NULL,
    "directory"      integer NOT NULL,
    "sub_type"       integer NULL,
    "content"        integer NULL,
    "annotation"     text NOT NULL,
    "job_param_name" varchar(32) NOT NULL,
    "job_id"         bigint NULL REFERENCES "ccp4i2_job" ("id") DEFERRABLE INITIALLY DEFERRED,
    "type_id"        varchar(50) NOT NULL REFERENCES "ccp4i2_filetype" ("name") DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX "ccp4i2_file_job_id_62a37026" ON "ccp4i2_file" ("job_id");
CREATE INDEX "ccp4i2_file_type_id_47d33082" ON "ccp4i2_file" ("type_id");

CREATE TABLE "ccp4i2_fileexport" (
    "id"      integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "time"    datetime NOT NULL,
    "name"    text NOT NULL,
    "file_id" bigint NOT NULL REFERENCES "ccp4i2_file" ("id") DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX "ccp4i2_fileexport_file_id_bf742c1c" ON "ccp4i2_fileexport" ("file_id");

-- One-to-one with ccp4i2_file: the file id is the primary key (bigint, so not a rowid alias).
CREATE TABLE "ccp4i2_fileimport" (
    "file_id"       bigint NOT NULL PRIMARY KEY REFERENCES "ccp4i2_file" ("id") DEFERRABLE INITIALLY DEFERRED,
    "time"          datetime NOT NULL,
    "name"          text NOT NULL,
    "checksum"      varchar(32) NOT NULL,
    "last_modified" datetime NULL
);

CREATE TABLE "ccp4i2_fileuse" (
    "id"             integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "role"           integer NOT NULL,
    "job_param_name" varchar(32) NOT NULL,
    "file_id"        bigint NOT NULL REFERENCES "ccp4i2_file" ("id") DEFERRABLE INITIALLY DEFERRED,
    "job_id"         bigint NOT NULL REFERENCES "ccp4i2_job" ("id") DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX "ccp4i2_fileuse_file_id_job_id_role_job_param_name_34409142_uniq"
    ON "ccp4i2_fileuse" ("file_id", "job_id", "role", "job_param_name");
CREATE INDEX "ccp4i2_fileuse_file_id_225f4557" ON "ccp4i2_fileuse" ("file_id");
CREATE INDEX "ccp4i2_fileuse_job_id_c354451c" ON "ccp4i2_fileuse" ("job_id");

-- Job KPIs. Upstream rebuilt these two tables with hand-written SQL on SQLite, hence the short,
-- hash-less index names.
CREATE TABLE "ccp4i2_jobcharvalue" (
    "id"     integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "value"  varchar(255) NOT NULL,
    "job_id" bigint NOT NULL REFERENCES "ccp4i2_job" ("id") DEFERRABLE INITIALLY DEFERRED,
    "key_id" varchar(50) NOT NULL REFERENCES "ccp4i2_jobvaluekey" ("name") DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX "ccp4i2_jobcharvalue_job_id_key_id" ON "ccp4i2_jobcharvalue" ("job_id", "key_id");
CREATE INDEX "ccp4i2_jobcharvalue_job_id" ON "ccp4i2_jobcharvalue" ("job_id");
CREATE INDEX "ccp4i2_jobcharvalue_key_id" ON "ccp4i2_jobcharvalue" ("key_id");

CREATE TABLE "ccp4i2_jobfloatvalue" (
    "id"     integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "value"  real NOT NULL,
    "job_id" bigint NOT NULL REFERENCES "ccp4i2_job" ("id") DEFERRABLE INITIALLY DEFERRED,
    "key_id" varchar(50) NOT NULL REFERENCES "ccp4i2_jobvaluekey" ("name") DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX "ccp4i2_jobfloatvalue_job_id_key_id" ON "ccp4i2_jobfloatvalue" ("job_id", "key_id");
CREATE INDEX "ccp4i2_jobfloatvalue_job_id" ON "ccp4i2_jobfloatvalue" ("job_id");
CREATE INDEX "ccp4i2_jobfloatvalue_key_id" ON "ccp4i2_jobfloatvalue" ("key_id");

CREATE TABLE "ccp4i2_projectexport" (
    "id"         integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "time"       datetime NOT NULL,
    "project_id" bigint NOT NULL REFERENCES "ccp4i2_project" ("id") DEFERRABLE INITIALLY DEFERRED,
    "status"     varchar(16) NOT NULL
);
CREATE INDEX "ccp4i2_projectexport_project_id_7c221c76" ON "ccp4i2_projectexport" ("project_id");

CREATE TABLE "ccp4i2_projectimport" (
    "id"         integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "time"       datetime NOT NULL,
    "project_id" bigint NOT NULL REFERENCES "ccp4i2_project" ("id") DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX "ccp4i2_projectimport_project_id_15619f99" ON "ccp4i2_projectimport" ("project_id");

-- sites holds a JSON document (a list); upstream's JSONField adds the JSON_VALID check on SQLite.
CREATE TABLE "ccp4i2_projectgroup" (
    "id"    integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name"  varchar(100) NOT NULL UNIQUE,
    "type"  varchar(32) NOT NULL,
    "sites" text NOT NULL CHECK ((JSON_VALID("sites") OR "sites" IS NULL))
);

CREATE TABLE "ccp4i2_projectgroupmembership" (
    "id"         integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "type"       varchar(16) NOT NULL,
    "group_id"   bigint NOT NULL REFERENCES "ccp4i2_projectgroup" ("id") DEFERRABLE INITIALLY DEFERRED,
    "project_id" bigint NOT NULL REFERENCES "ccp4i2_project" ("id") DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX "ccp4i2_projectgroupmembership_group_id_project_id_1603c184_uniq"
    ON "ccp4i2_projectgroupmembership" ("group_id", "project_id");
CREATE INDEX "ccp4i2_projectgroupmembership_group_id_ad224e6a" ON "ccp4i2_projectgroupmembership" ("group_id");
CREATE INDEX "ccp4i2_projectgroupmembership_project_id_5ce2d5c4" ON "ccp4i2_projectgroupmembership" ("project_id");

CREATE TABLE "ccp4i2_projecttag" (
    "id"        integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "text"      varchar(50) NOT NULL,
    "parent_id" bigint NULL REFERENCES "ccp4i2_projecttag" ("id") DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX "ccp4i2_projecttag_parent_id_text_b6eed298_uniq" ON "ccp4i2_projecttag" ("parent_id", "text");
CREATE INDEX "ccp4i2_projecttag_parent_id_c3d5b850" ON "ccp4i2_projecttag" ("parent_id");

-- Many-to-many join table between tags and projects.
CREATE TABLE "ccp4i2_projecttag_projects" (
    "id"            integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "projecttag_id" bigint NOT NULL REFERENCES "ccp4i2_projecttag" ("id") DEFERRABLE INITIALLY DEFERRED,
    "project_id"    bigint NOT NULL REFERENCES "ccp4i2_project" ("id") DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX "ccp4i2_projecttag_projects_projecttag_id_project_id_c215f861_uniq"
    ON "ccp4i2_projecttag_projects" ("projecttag_id", "project_id");
CREATE INDEX "ccp4i2_projecttag_projects_projecttag_id_d70fde2d" ON "ccp4i2_projecttag_projects" ("projecttag_id");
CREATE INDEX "ccp4i2_projecttag_projects_project_id_feb4c6ca" ON "ccp4i2_projecttag_projects" ("project_id");

-- Dormant (remote execution); one-to-one with ccp4i2_job.
CREATE TABLE "ccp4i2_serverjob" (
    "job_id"            bigint NOT NULL PRIMARY KEY REFERENCES "ccp4i2_job" ("id") DEFERRABLE INITIALLY DEFERRED,
    "server_process_id" integer NULL,
    "machine"           varchar(255) NOT NULL,
    "username"          varchar(100) NOT NULL,
    "mechanism"         varchar(32) NOT NULL,
    "remote_path"       varchar(255) NOT NULL,
    "custom_code_file"  varchar(255) NOT NULL,
    "validate"          varchar(32) NOT NULL,
    "key_file_name"     varchar(255) NOT NULL,
    "server_group"      varchar(32) NOT NULL
);

-- Unused legacy table.
CREATE TABLE "ccp4i2_xdata" (
    "id"     integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "class"  text NOT NULL,
    "xml"    text NOT NULL,
    "job_id" bigint NULL REFERENCES "ccp4i2_job" ("id") DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX "ccp4i2_xdata_job_id_c8a912c2" ON "ccp4i2_xdata" ("job_id");
