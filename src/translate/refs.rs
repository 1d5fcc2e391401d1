//! `svm` and `node` references, mapped the same way wherever a record
//! carries one: present when selected, with only the selected keys.

use super::schema::Selection;
use crate::ontap::ObjectRef;
use crate::proto::v1::{NodeRef, SvmRef};

/// The record's `svm`, if the selection holds it.
pub fn svm(object: Option<ObjectRef>, selection: &Selection) -> Option<SvmRef> {
    let (uuid, name) = keys(object?, ["svm", "svm.uuid", "svm.name"], selection)?;
    Some(SvmRef { uuid, name })
}

/// The record's `node`, if the selection holds it.
pub fn node(object: Option<ObjectRef>, selection: &Selection) -> Option<NodeRef> {
    let (uuid, name) = keys(object?, ["node", "node.uuid", "node.name"], selection)?;
    Some(NodeRef { uuid, name })
}

fn keys(
    object: ObjectRef,
    [at, uuid_path, name_path]: [&str; 3],
    selection: &Selection,
) -> Option<(Option<String>, Option<String>)> {
    selection.includes(at).then(|| {
        (
            object.uuid.filter(|_| selection.includes(uuid_path)),
            object.name.filter(|_| selection.includes(name_path)),
        )
    })
}
