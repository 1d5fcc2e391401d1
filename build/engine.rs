//! Derives, from the compiled descriptors, the glue between a resource's
//! standard RPCs and the gateway's generic code: where each resource lives
//! (its `ontap.v1.resource` option: collection and keys), how a record's
//! keys are read, and how a Stream or Watch request becomes the List request
//! of the same service, field by field. A key that names no field, or a
//! Stream or Watch field the List request lacks, fails the build, naming it.

use proc_macro2::TokenStream;
use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor, ServiceDescriptor};
use quote::{format_ident, quote};

use super::resources::{PACKAGE, checked};

/// The one field a Watch request has beyond its List request's filters.
const POLL_INTERVAL: &str = "poll_interval";

/// Where a resource lives in ONTAP, as its message option says.
struct RestResource {
    collection: String,
    keys: Vec<String>,
}

/// The engine's items: a `Resource` impl per resource with a collection,
/// and a `ListedBy` impl per Stream and Watch request of such a resource.
pub fn items(pool: &DescriptorPool) -> Vec<syn::Item> {
    let option = pool
        .get_extension_by_name("ontap.v1.resource")
        .expect("proto/ontap/v1/annotations.proto defines ontap.v1.resource");
    let mut items = Vec::new();
    for message in pool.all_messages().filter(|m| m.package_name() == PACKAGE) {
        let options = message.options();
        if !options.has_extension(&option) {
            continue;
        }
        let value = options.get_extension(&option);
        let resource = value.as_message().expect("a RestResource");
        let resource = RestResource {
            collection: resource
                .get_field_by_name("collection")
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            keys: resource
                .get_field_by_name("keys")
                .and_then(|v| {
                    v.as_list().map(|l| {
                        l.iter()
                            .filter_map(|k| k.as_str().map(str::to_owned))
                            .collect()
                    })
                })
                .unwrap_or_default(),
        };
        items.push(resource_impl(&message, &resource));
    }
    for service in pool.services().filter(|s| s.package_name() == PACKAGE) {
        items.extend(listed_by_impls(&service, &option));
        items.extend(instance_request_impls(&service, &option));
    }
    items
}

/// The resource a Get or Delete method names a record of: the message its
/// name ends with, when that message names its collection and keys.
pub fn instance_resource(
    method: &prost_reflect::MethodDescriptor,
    option: &prost_reflect::ExtensionDescriptor,
) -> Option<MessageDescriptor> {
    if method.is_server_streaming() || method.is_client_streaming() {
        return None;
    }
    let name = method.name();
    let resource = name
        .strip_prefix("Get")
        .or_else(|| name.strip_prefix("Delete"))?;
    let message = method
        .parent_pool()
        .get_message_by_name(&format!("{PACKAGE}.{resource}"))?;
    message.options().has_extension(option).then_some(message)
}

/// `impl InstanceRequest` for each Get and Delete request of `service`
/// whose resource has keys.
fn instance_request_impls(
    service: &ServiceDescriptor,
    option: &prost_reflect::ExtensionDescriptor,
) -> Vec<syn::Item> {
    service
        .methods()
        .filter_map(|method| {
            let resource = instance_resource(&method, option)?;
            Some(instance_request_impl(
                &method.input(),
                &resource,
                &keys_of(&resource, option),
            ))
        })
        .collect()
}

/// The keys a resource's option names.
pub fn keys_of(
    resource: &MessageDescriptor,
    option: &prost_reflect::ExtensionDescriptor,
) -> Vec<String> {
    let options = resource.options();
    let value = options.get_extension(option);
    value
        .as_message()
        .and_then(|m| m.get_field_by_name("keys"))
        .and_then(|v| {
            v.as_list().map(|l| {
                l.iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// `impl InstanceRequest` for one request: a field per key, named as the
/// key with its dots as underscores, of the key's type.
fn instance_request_impl(
    request: &MessageDescriptor,
    resource: &MessageDescriptor,
    keys: &[String],
) -> syn::Item {
    let parts = keys.iter().map(|key| {
        let name = key.replace('.', "_");
        let field = request.get_field_by_name(&name).unwrap_or_else(|| {
            panic!(
                "{} lacks the field `{name}` for the key `{key}`",
                request.full_name()
            )
        });
        let ident = format_ident!("{}", name);
        match field.kind() {
            Kind::String if !field.is_list() => quote!((#name, KeyPart::Text(self.#ident.clone()))),
            Kind::Uint32 if !field.is_list() => {
                quote!((#name, KeyPart::Number(u64::from(self.#ident))))
            }
            Kind::Uint64 if !field.is_list() => quote!((#name, KeyPart::Number(self.#ident))),
            kind => panic!(
                "{}.{name}: a key field must be a string or unsigned, not {kind:?}",
                request.full_name()
            ),
        }
    });
    let read_mask = match request.get_field_by_name("read_mask") {
        Some(_) => quote!(mask_paths(self.read_mask.as_ref())),
        None => quote!(&[]),
    };
    let ident = format_ident!("{}", request.name());
    let resource = format_ident!("{}", resource.name());
    checked(
        "instance_request_impl",
        quote! {
            impl InstanceRequest for crate::proto::v1::#ident {
                type Resource = crate::proto::v1::#resource;

                fn keys(&self) -> Vec<(&'static str, KeyPart)> {
                    vec![#(#parts),*]
                }

                fn read_mask(&self) -> &[String] {
                    #read_mask
                }
            }
        },
    )
}

/// `impl Resource` for one message: its collection and how its keys read.
fn resource_impl(message: &MessageDescriptor, resource: &RestResource) -> syn::Item {
    let RestResource { collection, keys } = resource;
    assert!(
        collection.starts_with("/api/") && !collection.ends_with('/'),
        "{}: the collection `{collection}` must be a path under /api/",
        message.full_name()
    );
    let instance = keys
        .iter()
        .fold(collection.clone(), |path, key| format!("{path}/{{{key}}}"));
    let reads = keys.iter().map(|key| key_read(message, key));
    let compared: Vec<TokenStream> = watched_fields(message)
        .into_iter()
        .map(|field| {
            let field = format_ident!("{}", field);
            quote!(self.#field != other.#field)
        })
        .collect();
    let changed = if compared.is_empty() {
        quote!(false)
    } else {
        quote!(#(#compared)||*)
    };
    let ident = format_ident!("{}", message.name());
    let schema = format_ident!("{}", super::resources::screaming(message.name()));
    checked(
        "resource_impl",
        quote! {
            impl Resource for crate::proto::v1::#ident {
                const COLLECTION: CollectionPath = ApiPath::collection(#collection);
                const SCHEMA: &'static Schema = &#schema;
                const KEYS: &'static [&'static str] = &[#(#keys),*];
                const INSTANCE: &'static str = #instance;

                fn key(&self) -> RecordKey {
                    vec![#(#reads),*]
                }

                fn changed(&self, other: &Self) -> bool {
                    #changed
                }
            }
        },
    )
}

/// The fields of a resource a watch compares: all but the volatile ones
/// (`(ontap.v1.rest).volatile`), which change with time alone.
fn watched_fields(message: &MessageDescriptor) -> Vec<String> {
    let rest = message
        .parent_pool()
        .get_extension_by_name("ontap.v1.rest")
        .expect("proto/ontap/v1/annotations.proto defines ontap.v1.rest");
    message
        .fields()
        .filter(|field| {
            let options = field.options();
            let volatile = options.has_extension(&rest)
                && options
                    .get_extension(&rest)
                    .as_message()
                    .and_then(|m| m.get_field_by_name("volatile"))
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
            !volatile
        })
        .map(|field| super::resources::rust_ident(field.name()).to_string())
        .collect()
}

/// The expression reading one key of a record as a `KeyPart`: a key that
/// ONTAP did not send reads as empty text or zero.
fn key_read(message: &MessageDescriptor, key: &str) -> TokenStream {
    let mut parent: Option<TokenStream> = None;
    let mut current = message.clone();
    let segments: Vec<&str> = key.split('.').collect();
    for (i, segment) in segments.iter().enumerate() {
        let field = current.get_field_by_name(segment).unwrap_or_else(|| {
            panic!(
                "{}: the key `{key}` names no field (`{segment}`)",
                message.full_name()
            )
        });
        assert!(
            !field.is_list(),
            "{}: the key `{key}` goes through the repeated field `{segment}`",
            message.full_name()
        );
        let ident = format_ident!("{}", segment);
        // The value of this field as an `Option`, given its parent's.
        let value = |then: TokenStream| match &parent {
            None => quote!(self.#ident #then),
            Some(parent) => quote!(#parent.and_then(|v| v.#ident #then)),
        };
        let last = i + 1 == segments.len();
        match (field.kind(), last) {
            (Kind::Message(nested), false) => {
                parent = Some(value(quote!(.as_ref())));
                current = nested;
            }
            (Kind::String, true) => {
                let text = value(quote!(.clone()));
                return quote!(KeyPart::Text(#text.unwrap_or_default()));
            }
            (Kind::Uint32, true) => {
                let number = value(quote!());
                return quote!(KeyPart::Number(#number.map(u64::from).unwrap_or_default()));
            }
            (Kind::Uint64, true) => {
                let number = value(quote!());
                return quote!(KeyPart::Number(#number.unwrap_or_default()));
            }
            (kind, _) => panic!(
                "{}: the key `{key}` must end at a string or unsigned field, not {kind:?}",
                message.full_name()
            ),
        }
    }
    unreachable!("a key has at least one segment")
}

/// `impl ListedBy` for each Stream and Watch request of `service` whose
/// List sibling lists a resource with a collection.
fn listed_by_impls(
    service: &ServiceDescriptor,
    option: &prost_reflect::ExtensionDescriptor,
) -> Vec<syn::Item> {
    let lists: Vec<_> = service
        .methods()
        .filter(|m| m.name().starts_with("List") && !m.is_server_streaming())
        .collect();
    let mut items = Vec::new();
    for method in service.methods().filter(|m| m.is_server_streaming()) {
        let name = method.name();
        let Some(listed) = name
            .strip_prefix("Stream")
            .or_else(|| name.strip_prefix("Watch"))
        else {
            continue;
        };
        let Some(list) = lists.iter().find(|l| l.name()[4..] == *listed) else {
            continue;
        };
        let resource = super::resources::listed_resource(&list.output());
        if !resource.options().has_extension(option) {
            continue;
        }
        items.push(listed_by_impl(&method.input(), &list.input()));
    }
    items
}

/// `impl ListedBy` for one Stream or Watch request: each of its fields set
/// on the List request of the same name, which must hold the same type.
fn listed_by_impl(request: &MessageDescriptor, list: &MessageDescriptor) -> syn::Item {
    let mut copies = Vec::new();
    for field in request.fields().filter(|f| f.name() != POLL_INTERVAL) {
        let twin = list.get_field_by_name(field.name()).unwrap_or_else(|| {
            panic!(
                "{}.{} has no field of that name in {}",
                request.full_name(),
                field.name(),
                list.full_name()
            )
        });
        assert!(
            same_type(&field, &twin),
            "{}.{} is not of the type {} gives it",
            request.full_name(),
            field.name(),
            list.full_name()
        );
        let ident = format_ident!("{}", field.name());
        let cloned = field.is_list()
            || matches!(field.kind(), Kind::String | Kind::Bytes | Kind::Message(_));
        copies.push(if cloned {
            quote!(#ident: self.#ident.clone())
        } else {
            quote!(#ident: self.#ident)
        });
    }
    let poll_interval = match request.get_field_by_name(POLL_INTERVAL) {
        Some(_) => quote!(self.poll_interval.as_ref()),
        None => quote!(None),
    };
    let request = format_ident!("{}", request.name());
    let list = format_ident!("{}", list.name());
    checked(
        "listed_by_impl",
        quote! {
            impl ListedBy for crate::proto::v1::#request {
                type List = crate::proto::v1::#list;

                fn list_request(&self) -> Self::List {
                    Self::List {
                        #(#copies,)*
                        ..Self::List::default()
                    }
                }

                fn poll_interval(&self) -> Option<&prost_types::Duration> {
                    #poll_interval
                }
            }
        },
    )
}

fn same_type(a: &FieldDescriptor, b: &FieldDescriptor) -> bool {
    a.kind() == b.kind()
        && a.is_list() == b.is_list()
        && a.supports_presence() == b.supports_presence()
}
