import { describe, expect, it } from 'vitest';
import { BoxGeometry, BufferAttribute, Mesh, MeshStandardMaterial, ShaderLib, UniformsUtils } from 'three';
import { MeshFeatures } from '3d-tiles-renderer/plugins';
import { FACADE_CLASSES, FACADE_STYLES, facadeClass, facadeParams, storeyHeight } from '../src/facade/classify.js';
import { FACADE_UNIFORMS, facadeAttribute, withFacade } from '../src/facade/material.js';
import { highlightableMaterial } from '../src/tiles.js';

describe('facade classes', () => {
  it('sorts OSM building values into the five facades, anything else into other', () => {
    expect(facadeClass('apartments')).toBe('residential');
    expect(facadeClass('House ')).toBe('residential');
    expect(facadeClass('retail')).toBe('commercial');
    expect(facadeClass('warehouse')).toBe('industrial');
    expect(facadeClass('cathedral')).toBe('church');
    expect(facadeClass('garages')).toBe('garage');
    expect(facadeClass('yes')).toBe('other');
    expect(facadeClass(null)).toBe('other');
    expect(FACADE_STYLES).toHaveLength(FACADE_CLASSES.length);
  });

  it('derives the storey height from height and levels, within bounds, else the class default', () => {
    expect(storeyHeight({ usage: 'apartments', height: 15, levels: 5, roof_shape: 'flat' })).toBeCloseTo(3.0);
    // A pitched roof is not storeys: 2 storeys under a 9 m gabled house leave 3 m each.
    expect(storeyHeight({ usage: 'house', height: 9, levels: 2, roof_shape: 'gabled' })).toBeCloseTo(3.0);
    expect(storeyHeight({ usage: 'office', height: 300, levels: 1, roof_shape: 'flat' })).toBe(7);
    expect(storeyHeight({ usage: 'house', height: 9 })).toBe(3.0);
    expect(storeyHeight({ usage: 'industrial', height: 8 })).toBe(5.5);
    expect(storeyHeight({ usage: 'church', height: 40, levels: 12 })).toBe(9.0);
    expect(facadeParams({ usage: 'garage', height: 3 })).toEqual([FACADE_CLASSES.indexOf('garage'), 2.8]);
  });

  it('packs class and storey (decimetres) into two bytes per vertex, one lookup per building', () => {
    const rows = { 0: { usage: 'house', height: 9, levels: 2, roof_shape: 'gabled' }, 1: { usage: 'garages' } };
    const looked = [];
    const ids = new BufferAttribute(new Uint16Array([0, 0, 1, 1, 0]), 1);
    const attr = facadeAttribute(ids, (id) => (looked.push(id), rows[id]));
    expect(attr.itemSize).toBe(2);
    expect(Array.from(attr.array)).toEqual([0, 30, 0, 30, 4, 28, 4, 28, 0, 30]);
    expect(looked).toEqual([0, 1]);
  });
});

/** A tile mesh as 3d-tiles-renderer delivers it: facade coordinates, feature ids and a property table. */
function tileMesh(withUv = true) {
  const geometry = new BoxGeometry(10, 9, 6);
  geometry.clearGroups();
  if (!withUv) geometry.deleteAttribute('uv');
  const n = geometry.attributes.position.count;
  geometry.setAttribute('_feature_id_0', new BufferAttribute(new Float32Array(n).fill(0), 1));
  const mesh = new Mesh(geometry, new MeshStandardMaterial({ vertexColors: true }));
  mesh.userData.meshFeatures = new MeshFeatures(geometry, [], { featureIds: [{ featureCount: 1, attribute: 0, propertyTable: 0 }] });
  mesh.userData.structuralMetadata = { getPropertyTableData: () => ({ usage: 'retail', height: 6 }) };
  return mesh;
}

/** Run a material's onBeforeCompile on three's real physical shader source. */
function compile(material) {
  const src = ShaderLib.physical;
  const shader = { uniforms: UniformsUtils.clone(src.uniforms), vertexShader: src.vertexShader, fragmentShader: src.fragmentShader };
  material.onBeforeCompile(shader, null);
  return shader;
}

describe('facade material', () => {
  it('patches the highlightable tile material: facade uniforms and code, highlight kept', () => {
    const mesh = tileMesh();
    const uniform = { value: -1 };
    const material = withFacade(highlightableMaterial(mesh.material, uniform, true), mesh);
    expect(material.userData.facade).toBe(FACADE_UNIFORMS);
    expect(mesh.geometry.getAttribute('facade').array[0]).toBe(FACADE_CLASSES.indexOf('commercial'));
    expect(mesh.geometry.getAttribute('facade').array[1]).toBe(38);
    const shader = compile(material);
    expect(shader.uniforms.facadeStyles.value).toHaveLength(FACADE_CLASSES.length);
    expect(shader.uniforms.highlightId).toBe(uniform);
    expect(shader.vertexShader).toContain('vFacadeUv = uv;');
    expect(shader.vertexShader).toContain('vFeatureId');
    expect(shader.fragmentShader).toContain('diffuseColor.rgb = mix(diffuseColor.rgb, facadeGlass');
    expect(shader.fragmentShader).toContain('roughnessFactor = mix(roughnessFactor, 0.3, facadeMask)');
    expect(shader.fragmentShader).toContain('highlightId');
    // The body follows the colour chunk (vertex colours) and precedes roughness (glass is smoother).
    const f = shader.fragmentShader;
    expect(f.indexOf('float facadeMask')).toBeGreaterThan(f.indexOf('#include <color_fragment>'));
    expect(f.indexOf('float facadeMask')).toBeLessThan(f.indexOf('roughnessFactor = mix'));
    expect(material.customProgramCacheKey()).toBe('twin-highlight-true|twin-facade');
  });

  it('leaves meshes without facade coordinates (designs, foreign tilesets) alone', () => {
    const mesh = tileMesh(false);
    const material = highlightableMaterial(mesh.material, { value: -1 }, true);
    expect(withFacade(material, mesh)).toBe(material);
    expect(material.userData.facade).toBeUndefined();
    expect(mesh.geometry.getAttribute('facade')).toBeUndefined();
    expect(compile(material).fragmentShader).not.toContain('facadeMask');
  });
});
