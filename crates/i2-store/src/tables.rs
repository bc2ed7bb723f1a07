//! Column specs of the upstream tables that the API exposes as plain records.
//!
//! Field order is the model's declaration order (upstream's JSON follows it). `fk` names the
//! referenced table; a foreign key's JSON field is the column name without `_id`.

use crate::types::Kind;

/// How a column is filled when a create request omits it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Default {
    /// The request must give it.
    Required,
    Null,
    Int(i64),
    Text(&'static str),
    Now,
    NewUuid,
    EmptyJsonList,
    /// Upstream fills it from the OS (user name, host name); the API supplies it.
    Runtime,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub column: &'static str,
    pub field: &'static str,
    pub kind: Kind,
    pub nullable: bool,
    /// `blank=True`: an empty string is accepted.
    pub blank: bool,
    pub max_len: Option<usize>,
    pub fk: Option<&'static str>,
    pub default: Default,
    pub unique: bool,
    /// Allowed integer values (IntegerChoices).
    pub int_choices: &'static [i64],
    /// Allowed text values (TextChoices).
    pub text_choices: &'static [&'static str],
    /// The primary key when it is an auto-increment id.
    pub auto: bool,
}

const fn col(column: &'static str, field: &'static str, kind: Kind) -> Column {
    Column {
        column,
        field,
        kind,
        nullable: false,
        blank: false,
        max_len: None,
        fk: None,
        default: Default::Required,
        unique: false,
        int_choices: &[],
        text_choices: &[],
        auto: false,
    }
}

impl Column {
    const fn id() -> Column {
        let mut c = col("id", "id", Kind::Int);
        c.auto = true;
        c
    }
    const fn len(mut self, n: usize) -> Self {
        self.max_len = Some(n);
        self
    }
    const fn blank(mut self) -> Self {
        self.blank = true;
        self
    }
    const fn null(mut self) -> Self {
        self.nullable = true;
        self.default = Default::Null;
        self
    }
    const fn fk(mut self, table: &'static str) -> Self {
        self.fk = Some(table);
        self
    }
    const fn def(mut self, d: Default) -> Self {
        self.default = d;
        self
    }
    const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    const fn ints(mut self, v: &'static [i64]) -> Self {
        self.int_choices = v;
        self
    }
    const fn texts(mut self, v: &'static [&'static str]) -> Self {
        self.text_choices = v;
        self
    }
    /// A column that may be blank and defaults to the empty string.
    const fn blank_text(self) -> Self {
        self.blank().def(Default::Text(""))
    }
}

#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    /// Singular name in upstream's messages ("project with this name already exists.").
    pub verbose: &'static str,
    /// Model name in "No Project matches the given query."
    pub model: &'static str,
    pub columns: &'static [Column],
    /// Sets of fields that must be unique together.
    pub unique_together: &'static [&'static [&'static str]],
}

impl Table {
    pub fn pk(&self) -> &Column {
        &self.columns[0]
    }
    pub fn column(&self, field: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.field == field)
    }
    pub fn kinds(&self) -> Vec<Kind> {
        self.columns.iter().map(|c| c.kind).collect()
    }
    /// `col1, col2, …` in spec order, qualified with `alias.` when given.
    pub fn select_list(&self, alias: &str) -> String {
        self.columns
            .iter()
            .map(|c| {
                if alias.is_empty() {
                    format!("\"{}\"", c.column)
                } else {
                    format!("{alias}.\"{}\"", c.column)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

const STATUSES: &[i64] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const EVALUATIONS: &[i64] = &[0, 1, 2, 3];

pub static PROJECT: Table = Table {
    name: "ccp4i2_project",
    verbose: "project",
    model: "Project",
    columns: &[
        Column::id(),
        col("uuid", "uuid", Kind::Uuid)
            .def(Default::NewUuid)
            .unique(),
        col("name", "name", Kind::Text).len(100).unique(),
        col("description", "description", Kind::Text).blank_text(),
        col("directory", "directory", Kind::Text).unique(),
        col("creation_time", "creation_time", Kind::Time).def(Default::Now),
        col("creation_user", "creation_user", Kind::Text).def(Default::Runtime),
        col("creation_host", "creation_host", Kind::Text).def(Default::Runtime),
        col("last_access", "last_access", Kind::Time).def(Default::Now),
        col("last_job_number", "last_job_number", Kind::Int).def(Default::Int(0)),
        col("i1_project_name", "i1_project_name", Kind::Text).blank_text(),
        col("i1_project_directory", "i1_project_directory", Kind::Text).blank_text(),
        col("follow_from_job_id", "follow_from_job", Kind::Int)
            .null()
            .blank()
            .fk("ccp4i2_job"),
    ],
    unique_together: &[],
};

pub static JOB: Table = Table {
    name: "ccp4i2_job",
    verbose: "job",
    model: "Job",
    columns: &[
        Column::id(),
        col("uuid", "uuid", Kind::Uuid)
            .def(Default::NewUuid)
            .unique(),
        col("number", "number", Kind::Text).len(50),
        col("title", "title", Kind::Text).len(255),
        col("status", "status", Kind::Int)
            .ints(STATUSES)
            .def(Default::Int(0)),
        col("evaluation", "evaluation", Kind::Int)
            .ints(EVALUATIONS)
            .def(Default::Int(0)),
        col("comments", "comments", Kind::Text).blank_text(),
        col("creation_time", "creation_time", Kind::Time).def(Default::Now),
        col("finish_time", "finish_time", Kind::Time).null().blank(),
        col("task_name", "task_name", Kind::Text).len(100),
        col("process_id", "process_id", Kind::Int).null().blank(),
        col("project_id", "project", Kind::Int).fk("ccp4i2_project"),
        col("parent_id", "parent", Kind::Int)
            .null()
            .blank()
            .fk("ccp4i2_job"),
    ],
    unique_together: &[&["project", "number"]],
};

pub static FILE: Table = Table {
    name: "ccp4i2_file",
    verbose: "file",
    model: "File",
    columns: &[
        Column::id(),
        col("uuid", "uuid", Kind::Uuid)
            .def(Default::NewUuid)
            .unique(),
        col("name", "name", Kind::Text),
        col("directory", "directory", Kind::Int).ints(&[1, 2]),
        col("sub_type", "sub_type", Kind::Int).null().blank(),
        col("content", "content", Kind::Int).null().blank(),
        col("annotation", "annotation", Kind::Text).blank_text(),
        col("job_param_name", "job_param_name", Kind::Text)
            .len(32)
            .blank_text(),
        col("job_id", "job", Kind::Int)
            .null()
            .blank()
            .fk("ccp4i2_job"),
        col("type_id", "type", Kind::Text).fk("ccp4i2_filetype"),
    ],
    unique_together: &[],
};

pub static FILE_TYPE: Table = Table {
    name: "ccp4i2_filetype",
    verbose: "file type",
    model: "FileType",
    columns: &[
        col("name", "name", Kind::Text).len(50).unique(),
        col("description", "description", Kind::Text),
    ],
    unique_together: &[],
};

pub static FILE_IMPORT: Table = Table {
    name: "ccp4i2_fileimport",
    verbose: "file import",
    model: "FileImport",
    columns: &[
        col("file_id", "file", Kind::Int).fk("ccp4i2_file").unique(),
        col("time", "time", Kind::Time).def(Default::Now),
        col("name", "name", Kind::Text),
        col("checksum", "checksum", Kind::Text).len(32),
        col("last_modified", "last_modified", Kind::Time)
            .null()
            .blank(),
    ],
    unique_together: &[],
};

pub static FILE_USE: Table = Table {
    name: "ccp4i2_fileuse",
    verbose: "file use",
    model: "FileUse",
    columns: &[
        Column::id(),
        col("file_id", "file", Kind::Int).fk("ccp4i2_file"),
        col("job_id", "job", Kind::Int).fk("ccp4i2_job"),
        col("role", "role", Kind::Int).ints(&[0, 1]),
        col("job_param_name", "job_param_name", Kind::Text)
            .len(32)
            .blank_text(),
    ],
    unique_together: &[&["file", "job", "role", "job_param_name"]],
};

pub static PROJECT_TAG: Table = Table {
    name: "ccp4i2_projecttag",
    verbose: "project tag",
    model: "ProjectTag",
    columns: &[
        Column::id(),
        col("parent_id", "parent", Kind::Int)
            .null()
            .blank()
            .fk("ccp4i2_projecttag"),
        col("text", "text", Kind::Text).len(50),
    ],
    unique_together: &[],
};

pub static PROJECT_GROUP: Table = Table {
    name: "ccp4i2_projectgroup",
    verbose: "project group",
    model: "ProjectGroup",
    columns: &[
        Column::id(),
        col("name", "name", Kind::Text).len(100).unique(),
        col("type", "type", Kind::Text)
            .len(32)
            .texts(&["general_set", "fragment_set"])
            .def(Default::Text("general_set")),
        col("sites", "sites", Kind::Json)
            .blank()
            .def(Default::EmptyJsonList),
    ],
    unique_together: &[],
};

pub static PROJECT_GROUP_MEMBERSHIP: Table = Table {
    name: "ccp4i2_projectgroupmembership",
    verbose: "project group membership",
    model: "ProjectGroupMembership",
    columns: &[
        Column::id(),
        col("type", "type", Kind::Text)
            .len(16)
            .texts(&["parent", "member"]),
        col("group_id", "group", Kind::Int).fk("ccp4i2_projectgroup"),
        col("project_id", "project", Kind::Int).fk("ccp4i2_project"),
    ],
    unique_together: &[&["group", "project"]],
};

pub static PROJECT_EXPORT: Table = Table {
    name: "ccp4i2_projectexport",
    verbose: "project export",
    model: "ProjectExport",
    columns: &[
        Column::id(),
        col("time", "time", Kind::Time).def(Default::Now),
        col("project_id", "project", Kind::Int).fk("ccp4i2_project"),
        col("status", "status", Kind::Text)
            .len(16)
            .texts(&["pending", "running", "completed", "failed"])
            .def(Default::Text("pending")),
    ],
    unique_together: &[],
};

pub static JOB_FLOAT_VALUE: Table = Table {
    name: "ccp4i2_jobfloatvalue",
    verbose: "job float value",
    model: "JobFloatValue",
    columns: &[
        Column::id(),
        col("value", "value", Kind::Float),
        col("job_id", "job", Kind::Int).fk("ccp4i2_job"),
        col("key_id", "key", Kind::Text).fk("ccp4i2_jobvaluekey"),
    ],
    unique_together: &[&["job", "key"]],
};

pub static JOB_CHAR_VALUE: Table = Table {
    name: "ccp4i2_jobcharvalue",
    verbose: "job char value",
    model: "JobCharValue",
    columns: &[
        Column::id(),
        col("value", "value", Kind::Text).len(255),
        col("job_id", "job", Kind::Int).fk("ccp4i2_job"),
        col("key_id", "key", Kind::Text).fk("ccp4i2_jobvaluekey"),
    ],
    unique_together: &[&["job", "key"]],
};

/// The primary-key column of a referenced table (for existence checks).
pub fn pk_of(table: &str) -> &'static str {
    match table {
        "ccp4i2_filetype" | "ccp4i2_jobvaluekey" => "name",
        "ccp4i2_fileimport" => "file_id",
        _ => "id",
    }
}
