//! The CCP4i2 task catalogue and parameter containers, read natively from an installed `ccp4i2` package
//! (no Python at run time).
//!
//! Map:
//! - [`install`]: where the `ccp4i2` package is ([`find_installation`]).
//! - [`registry`]: reads the task registry `core/tasks.py` ([`TaskInfo`]).
//! - [`catalogue`]: [`Catalogue::load`], [`Catalogue::task_lookup`] (body of `GET /task_lookup/`),
//!   [`Catalogue::task`], [`Catalogue::definition`].
//! - [`xml`]: a small ElementTree-style XML tree with safety limits; [`include`]: def.xml includes.
//! - [`defxml`]: [`TaskDef`], the container tree of a def.xml; [`TaskDef::expanded_def_xml`] is the
//!   body of `GET /jobs/{id}/def_xml/`.
//! - [`classes`]: facts about the installation's CData classes (qualifiers, defaults, children),
//!   extracted once with the installation's Python ([`classes::generate_cache`]) and cached per
//!   installation fingerprint.
//! - [`container`]: container JSON of a fresh job ([`TaskDef::container_json`]), as
//!   `GET /jobs/{id}/container/` returns it in `data.result`.
//! - [`paramsxml`]: writing the `input_params.xml` of a fresh job ([`TaskDef::input_params_xml`]).
//! - [`jobparams`]: a job's parameters with values and set state: [`JobParams::load`] from
//!   `input_params.xml`, [`JobParams::set_parameter`] / [`JobParams::get_parameter`] (the
//!   `set_parameter` / `get_parameter` endpoints), [`JobParams::to_xml`];
//!   [`TaskDef::container_json_with_values`].
//! - [`validity`]: upstream's parameter validation ([`JobParams::validity`], the `validation/`
//!   endpoints) and its `<errorReportList>` document; [`runtime`]: the run-time checks that
//!   read files (`sameCrystalAs` unit cells, monomer dictionary coverage).
//! - [`whatnext`]: a plugin's `WHATNEXT` from its source ([`Catalogue::what_next`]).
//! - [`methods`]: the `object_method/` calls computed natively.
//! - [`params`]: reading params files ([`params::ParamsFile`]): header and values by path.
//! - [`error`]: [`Error`], each variant naming the file or task concerned.
//!
//! Typical use from a handler: `let cat = Catalogue::load(&find_installation()?, &cache_dir)?;` once at
//! start-up (on [`Error::NoClassCache`], run [`classes::generate_cache`] with the installation's Python,
//! e.g. from `i2server tasks --refresh`),
//! then `cat.task_lookup()`, `cat.definition(task)?.container_json(task)` and
//! `cat.definition(task)?.expanded_def_xml()` per request (definitions are parsed once and kept).
//!
//! Tests compare against recordings of the reference server in `tests/fixtures/` (re-record with
//! `tests/record_containers.py`). They need `I2_CCP4I2_ROOT` (the ccp4i2 package directory) and
//! `I2_TEST_PYTHON` (its Python), and fail without them.

pub mod catalogue;
pub mod classes;
pub mod container;
pub mod defxml;
pub mod error;
pub mod include;
pub mod install;
pub mod jobparams;
pub mod methods;
pub mod params;
pub mod paramsxml;
pub mod registry;
pub mod runtime;
pub mod validity;
pub mod whatnext;
pub mod xml;

pub use catalogue::Catalogue;
pub use defxml::TaskDef;
pub use error::{Error, Result};
pub use install::find_installation;
pub use jobparams::{JobParams, ParamError, ParamErrorKind, SetOutcome};
pub use registry::TaskInfo;
