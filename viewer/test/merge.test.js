import { describe, expect, it } from 'vitest';
import { BoxGeometry, BufferAttribute, Group, Mesh, MeshStandardMaterial, Raycaster, Vector3 } from 'three';
import { MeshFeatures } from '3d-tiles-renderer/plugins';
import { mergeTileMeshes } from '../src/merge.js';

/** A box primitive with feature id `id` on every vertex, like one part of an IFC design tile. */
function part(id, x, color, metadata) {
  const geometry = new BoxGeometry(1, 1, 1).translate(x, 0, 0);
  geometry.clearGroups(); // a glTF primitive has no groups
  geometry.setAttribute('_feature_id_0', new BufferAttribute(new Float32Array(geometry.attributes.position.count).fill(id), 1));
  const mesh = new Mesh(geometry, new MeshStandardMaterial({ color }));
  mesh.userData.meshFeatures = new MeshFeatures(geometry, [], { featureIds: [{ featureCount: 1, attribute: 0, propertyTable: 0 }] });
  mesh.userData.structuralMetadata = metadata;
  return mesh;
}

describe('mergeTileMeshes', () => {
  it('joins primitives of one node into one mesh, colours as vertex colours, keeping feature ids', () => {
    const metadata = {};
    const node = new Group();
    // Four parts in two colours, each colour its own material object (as glTF materials are).
    node.add(part(0, 0, 0xff0000, metadata), part(1, 2, 0x00ff00, metadata), part(2, 4, 0xff0000, metadata), part(3, 6, 0x00ff00, metadata));
    const root = new Group().add(node);
    expect(mergeTileMeshes(root)).toEqual({ before: 4, after: 1 });
    expect(node.children).toHaveLength(1);
    // A ray through the third part (x = 4) finds feature 2, red, in the merged mesh.
    const hit = new Raycaster(new Vector3(4, 5, 0), new Vector3(0, -1, 0)).intersectObject(root, true)[0];
    const { material, geometry } = hit.object;
    expect(material.vertexColors).toBe(true);
    expect(material.color.getHex()).toBe(0xffffff);
    const colour = geometry.getAttribute('color');
    expect([colour.getX(hit.face.a), colour.getY(hit.face.a), colour.getZ(hit.face.a)]).toEqual([1, 0, 0]);
    const features = hit.object.userData.meshFeatures;
    // A fresh reader over the merged geometry (getFeatures itself needs a DOM canvas, not in node).
    expect(features.geometry).toBe(geometry);
    expect(features.getFeatureInfo()[0]).toMatchObject({ attribute: 0, propertyTable: 0 });
    expect(geometry.getAttribute('_feature_id_0').getX(hit.face.a)).toBe(2);
    expect(hit.object.userData.structuralMetadata).toBe(metadata);
  });

  it('keeps one material (no vertex colours) when the colours agree, and glass apart from walls', () => {
    const metadata = {};
    const glass = part(2, 4, 0x223344, metadata);
    glass.material.transparent = true;
    glass.material.opacity = 0.2;
    const root = new Group().add(part(0, 0, 0x808080, metadata), part(1, 2, 0x808080, metadata), glass);
    expect(mergeTileMeshes(root)).toEqual({ before: 3, after: 2 });
    const walls = root.children.find((m) => !m.material.transparent);
    expect(walls.material.vertexColors).toBe(false);
    expect(walls.geometry.getAttribute('color')).toBeUndefined();
  });

  it('leaves meshes alone that differ in transform, metadata or have a name and no feature ids', () => {
    const a = part(0, 0, 0xffffff, {});
    const b = part(1, 2, 0xffffff, {}); // another glb's property table
    const c = part(2, 4, 0xffffff, a.userData.structuralMetadata);
    c.position.set(0, 1, 0); // another node transform
    const named = new Mesh(new BoxGeometry().clearGroups(), new MeshStandardMaterial());
    named.name = 'Chimney';
    const named2 = new Mesh(new BoxGeometry().clearGroups(), new MeshStandardMaterial());
    named2.name = 'Door';
    const root = new Group().add(a, b, c, named, named2);
    expect(mergeTileMeshes(root)).toEqual({ before: 5, after: 5 });
  });
});
