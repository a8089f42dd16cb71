"""Annotations (comments an admin puts on an entity): addAnnotation, listAnnotations, removeAnnotation.

AnnotationManagerImpl and AnnotationDaoImpl, for the root admin only (a caller of the Admin role type: no ownership
check, every annotation visible). The entity is not looked up when the annotation is added; its name is answered for
the VMs and system VMs the simulator keeps (setResponseEntityName / getInfrastructureEntityName).
"""

from simulator.errors import server
from simulator.registry import PAGE_PARAMS, ROOT_ONLY, command, listing, param

ANNOTATION_FIELDS = ("id", "entitytype", "entityid", "entityname", "annotation", "userid", "username", "adminsonly",
                     "created", "removed")
ENTITY_TYPES = tuple("""
VM VOLUME SNAPSHOT VM_SNAPSHOT INSTANCE_GROUP SSH_KEYPAIR USER_DATA NETWORK VPC PUBLIC_IP_ADDRESS VPN_CUSTOMER_GATEWAY
TEMPLATE ISO KUBERNETES_CLUSTER SERVICE_OFFERING DISK_OFFERING NETWORK_OFFERING ZONE POD CLUSTER HOST DOMAIN
PRIMARY_STORAGE SECONDARY_STORAGE VR SYSTEM_VM AUTOSCALE_VM_GROUP MANAGEMENT_SERVER OBJECT_STORAGE
""".split())  # AnnotationService.EntityType
# The NullPointerException of removeAnnotation for an unknown id (Java's helpful message, as a root admin sees it)
NO_ANNOTATION = ('Cannot invoke "org.apache.cloudstack.annotation.AnnotationVO.getEntityType()" because "annotation"'
                 ' is null')


def entity_name(store, entity_type, uuid):
    """The name an AnnotationResponse gives its entity: a user VM's name, a system VM's instance name."""
    if entity_type == "VM":
        vm = store.by_uuid("vm", uuid)
        return vm["name"] if vm else None
    if entity_type in ("SYSTEM_VM", "VR"):
        vm = store.by_uuid("systemvm", uuid)
        return vm["instancename"] if vm else None
    return None


def annotation_response(ctx, annotation):
    """AnnotationManagerImpl.createAnnotationResponse."""
    user = ctx.store.by_uuid("user", annotation["user_uuid"])
    return {"id": annotation["uuid"], "entitytype": annotation["entity_type"], "entityid": annotation["entity_uuid"],
            "entityname": entity_name(ctx.store, annotation["entity_type"], annotation["entity_uuid"]),
            "annotation": annotation["annotation"], "userid": annotation["user_uuid"],
            "username": user["username"] if user else None, "adminsonly": annotation["adminsonly"],
            "created": annotation["created"], "removed": annotation.get("removed")}


def has_annotations(store, entity_type, uuid):
    """AnnotationDaoImpl.hasAnnotations: a not removed annotation on the entity (SystemVmResponse hasannotations)."""
    return any(item["entity_type"] == entity_type and item["entity_uuid"] == uuid and not item.get("removed")
               for item in store.all("annotation"))


@command("addAnnotation", admin=True, roles=ROOT_ONLY, params=(
    param("annotation"), param("entitytype"), param("entityid"), param("adminsonly", "boolean")),
    cmdclass="annotation.AddAnnotationCmd", fields=ANNOTATION_FIELDS)
def add_annotation(ctx, values):
    """Add an annotation (AddAnnotationCmd.execute: Preconditions on the entity id and the EntityType, whose messages
    ApiServer.handleRequest answers with 530 to a root admin; AnnotationManagerImpl.addAnnotation stores it with the
    caller as its user)."""
    if not values.get("entityid"):
        raise server(530, "I need to have an entity to set an annotation on!")
    if values.get("entitytype") not in ENTITY_TYPES:
        raise server(530, "'%s' is not a valid EntityType to put annotations on" % values.get("entitytype"))
    annotation = ctx.store.add("annotation", {
        "entity_type": values["entitytype"], "entity_uuid": values["entityid"], "annotation": values.get("annotation"),
        "user_uuid": ctx.caller.user["uuid"], "adminsonly": bool(values.get("adminsonly")), "created": ctx.app.now(),
        "removed": None})
    return {"annotation": annotation_response(ctx, annotation)}


@command("listAnnotations", admin=True, roles=ROOT_ONLY, params=(
    param("id"), param("entitytype"), param("entityid"), param("userid"), param("annotationfilter")) + PAGE_PARAMS,
    cmdclass="annotation.ListAnnotationsCmd", fields=ANNOTATION_FIELDS)
def list_annotations(ctx, values):
    """Lists annotations (AnnotationManagerImpl.getAnnotationsForApiCmd: by id, else by entity type and id, else by
    entity id; userid, annotationfilter self, keyword on the text; newest first; removed ones are not listed)."""
    found = [item for item in ctx.store.all("annotation") if not item.get("removed")]
    if values.get("id"):
        found = [item for item in found if item["uuid"] == values["id"]]
    else:
        for key, field in (("entitytype", "entity_type"), ("entityid", "entity_uuid")):
            if values.get(key):
                found = [item for item in found if item[field] == values[key]]
    if (values.get("annotationfilter") or "").lower() == "self":
        found = [item for item in found if item["user_uuid"] == ctx.caller.user["uuid"]]
    if values.get("userid"):
        found = [item for item in found if item["user_uuid"] == values["userid"]]
    if values.get("keyword"):
        found = [item for item in found if values["keyword"].lower() in (item["annotation"] or "").lower()]
    found.sort(key=lambda item: (item["created"], item["id"]), reverse=True)
    return listing("annotation", [annotation_response(ctx, item) for item in found], values)


@command("removeAnnotation", admin=True, roles=ROOT_ONLY, params=(param("id", required=True),),
         cmdclass="annotation.RemoveAnnotationCmd", fields=ANNOTATION_FIELDS)
def remove_annotation(ctx, values):
    """Remove an annotation (AnnotationManagerImpl.removeAnnotation: for an unknown id the permission check fails and
    its message then throws on the missing annotation, unhandled)."""
    annotation = ctx.store.by_uuid("annotation", values["id"])
    if annotation is None or annotation.get("removed"):
        raise server(530, NO_ANNOTATION)
    annotation["removed"] = ctx.app.now()
    ctx.store.save("annotation", annotation)
    return {"annotation": annotation_response(ctx, annotation)}
